using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Wavhaven.Store.Data;

namespace Wavhaven.Store.Pages.Account;

public sealed class RegisterModel(SignInManager<StoreUser> signIn, UserManager<StoreUser> users) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync(string name, string email, string password)
    {
        if (string.IsNullOrEmpty(password))
        {
            // An empty field binds as null, on which UserManager throws.
            ModelState.AddModelError(string.Empty, "Choose a password of 8 characters or more.");
            return Page();
        }

        var user = new StoreUser { UserName = email, Email = email, DisplayName = name };
        var result = await users.CreateAsync(user, password);
        if (result.Succeeded)
        {
            await signIn.SignInAsync(user, isPersistent: true);
            return LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl! : "/");
        }

        foreach (var error in result.Errors)
        {
            ModelState.AddModelError(string.Empty, error.Description);
        }

        return Page();
    }
}
