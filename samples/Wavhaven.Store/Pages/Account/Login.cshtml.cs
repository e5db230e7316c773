using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Wavhaven.Store.Data;

namespace Wavhaven.Store.Pages.Account;

public sealed class LoginModel(SignInManager<StoreUser> signIn, UserManager<StoreUser> users) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync(string email, string password)
    {
        // An empty field binds as null, on which Identity throws: it is a wrong sign-in like any other.
        var user = string.IsNullOrEmpty(email) || string.IsNullOrEmpty(password) ? null : await users.FindByEmailAsync(email);
        if (user is not null && (await signIn.PasswordSignInAsync(user, password, isPersistent: true, lockoutOnFailure: true)).Succeeded)
        {
            return LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl! : "/");
        }

        ModelState.AddModelError(string.Empty, "That email and password do not match an account.");
        return Page();
    }
}
