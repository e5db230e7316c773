using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Wavhaven.Store.Data;

namespace Wavhaven.Store.Pages;

public sealed class MailboxModel(StoreDbContext db) : PageModel
{
    public IReadOnlyList<MailMessage> Messages { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken) =>
        Messages = await db.Mailbox.AsNoTracking().OrderByDescending(m => m.Id).ToListAsync(cancellationToken);
}
