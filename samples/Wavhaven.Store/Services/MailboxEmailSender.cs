using Wavhaven.Store.Data;

namespace Wavhaven.Store.Services;

/// <summary>Sends the store's emails. The sample's sender keeps them in a mailbox the app shows at /mailbox, so it works offline.</summary>
public interface IStoreEmailSender
{
    Task SendAsync(string to, string subject, string htmlBody, CancellationToken cancellationToken);
}

/// <summary>Writes emails to the mailbox table, in the caller's unit of work (saved with the caller's changes).</summary>
public sealed class MailboxEmailSender(StoreDbContext db, TimeProvider time) : IStoreEmailSender
{
    public Task SendAsync(string to, string subject, string htmlBody, CancellationToken cancellationToken)
    {
        db.Mailbox.Add(new MailMessage { To = to, Subject = subject, HtmlBody = htmlBody, SentAt = time.GetUtcNow() });
        return Task.CompletedTask;
    }
}
