using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.AspNetCore.Tests.Support;

/// <summary>
/// The "database" behind <see cref="DocumentedEventStore"/>: one per test, shared by every instance of the app that uses
/// it, as a Redis, DynamoDB or Cosmos table would be. Each operation on it is atomic (one lock), as a conditional write is.
/// </summary>
public sealed class DocumentedStoreDatabase(TimeSpan lease, TimeProvider? clock = null)
{
    internal Lock Gate { get; } = new();

    internal Dictionary<string, DocumentedRow> Rows { get; } = new(StringComparer.Ordinal);

    public TimeProvider Clock { get; } = clock ?? TimeProvider.System;

    /// <summary>Gets how long a claim holds (the app's Stripe:WebhookClaimLease, as the docs ask).</summary>
    public TimeSpan Lease { get; } = lease;

    public WebhookEventInfo? Find(string id)
    {
        lock (Gate)
        {
            return Rows.TryGetValue(id, out var row) ? row.ToInfo(id) : null;
        }
    }
}

/// <summary>A mark made in a transaction, applied at its commit.</summary>
public sealed record PendingWrite(string Id, bool LostFails, Action<DocumentedRow> Change);

public sealed class DocumentedRow
{
    public required string Type { get; set; }

    public byte[]? Payload { get; set; }

    public WebhookEventState State { get; set; }

    public int Attempts { get; set; }

    public string? LastError { get; set; }

    public List<string> Steps { get; set; } = [];

    public string? LeaseToken { get; set; }

    public DateTimeOffset? LeaseExpiresAt { get; set; }

    public DateTimeOffset? NextAttemptAt { get; set; }

    public DateTimeOffset ReceivedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public DateTimeOffset? ProcessedAt { get; set; }

    public DocumentedRow Copy()
    {
        var copy = (DocumentedRow)MemberwiseClone();
        copy.Steps = [.. Steps];
        return copy;
    }

    public WebhookEventInfo ToInfo(string id) => new(id, Type, State, Attempts, LastError, null, ReceivedAt, UpdatedAt, ProcessedAt, NextAttemptAt);
}

/// <summary>
/// An event store written by an app team from the library's public XML docs and README alone, the simplest way they
/// allow: every claim carries a lease and a token of the instance that made it, marks are fenced by that token, a lapsed
/// lease makes the id claimable again, and the queue follows <see cref="IWebhookEventQueue"/>'s docs word for word.
/// Scoped, as <c>UseEventStore</c>'s default: one instance per delivery or queued attempt.
/// </summary>
public class DocumentedEventStore(DocumentedStoreDatabase database) : IWebhookEventQueue, IRenewableWebhookEventStore
{
    private readonly Dictionary<string, string> _tokens = new(StringComparer.Ordinal);

    protected DocumentedStoreDatabase Database => database;

    /// <summary>Gets the writes of the transaction now open (applied at its commit), or <see langword="null"/> outside one.</summary>
    protected List<PendingWrite>? Pending { get; set; }

    /// <summary>Gets what undoes the claims made in the transaction now open.</summary>
    protected List<Action>? Undo { get; set; }

    /// <summary>Gets the claims made in the transaction now open, held until it ends.</summary>
    protected List<(string Id, string Token)>? Held { get; set; }

    public TimeSpan ClaimRenewalPeriod => database.Lease / 3;

    private DateTimeOffset Now => database.Clock.GetUtcNow();

    public ValueTask<WebhookClaim> TryClaimAsync(string id, string type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (database.Gate)
        {
            var now = Now;
            if (!database.Rows.TryGetValue(id, out var row))
            {
                row = new DocumentedRow
                {
                    Type = type,
                    Payload = payload.IsEmpty ? null : payload.ToArray(),
                    State = WebhookEventState.Processing,
                    ReceivedAt = now,
                };
                database.Rows.Add(id, row);
                var created = Take(id, row, now);
                UndoUnlessTaken(id, row, () => database.Rows.Remove(id));
                return ValueTask.FromResult(created);
            }

            switch (row.State)
            {
                // "Claimed for a new id, for one whose last attempt failed, and for one whose claim's lease ran out."
                case WebhookEventState.Failed:
                case WebhookEventState.Processing when row.LeaseExpiresAt <= now:
                    var before = row.Copy();
                    var retaken = Take(id, row, now);
                    UndoUnlessTaken(id, row, () => database.Rows[id] = before);
                    return ValueTask.FromResult(retaken);

                // "The id was processed before: run nothing." A dead event: "nothing runs until it is replayed".
                case WebhookEventState.Processed or WebhookEventState.Dead:
                    return ValueTask.FromResult(new WebhookClaim(WebhookClaimStatus.AlreadyProcessed, row.Attempts));

                default:
                    return ValueTask.FromResult(new WebhookClaim(WebhookClaimStatus.InProgress, row.Attempts));
            }
        }
    }

    public ValueTask MarkStepCompletedAsync(string id, string step, CancellationToken cancellationToken = default) =>
        Write(id, row => row.Steps.Add(step), lostFails: false);

    public ValueTask MarkProcessedAsync(string id, CancellationToken cancellationToken = default) =>
        Write(id, row =>
        {
            row.State = WebhookEventState.Processed;
            row.ProcessedAt = Now;
            row.Steps.Clear();
            row.NextAttemptAt = null;
            Release(id, row);
        }, lostFails: true);

    public ValueTask MarkFailedAsync(string id, string error, CancellationToken cancellationToken = default) =>
        Write(id, row =>
        {
            row.State = WebhookEventState.Failed;
            row.LastError = error;
            Release(id, row);
        }, lostFails: false);

    public ValueTask<bool> RenewClaimAsync(string id, CancellationToken cancellationToken = default)
    {
        var token = TokenOf(id);
        if (token is null)
        {
            return ValueTask.FromResult(true); // completed or released by this instance
        }

        lock (database.Gate)
        {
            if (!database.Rows.TryGetValue(id, out var row) || row.LeaseToken != token || row.State != WebhookEventState.Processing)
            {
                return ValueTask.FromResult(TokenOf(id) != token); // marked meanwhile by this instance: completed, not lost
            }

            var renewed = Now + database.Lease;
            row.LeaseExpiresAt = row.LeaseExpiresAt > renewed ? row.LeaseExpiresAt : renewed;
            return ValueTask.FromResult(true);
        }
    }

    public ValueTask<bool> EnqueueAsync(StripeEvent stripeEvent, CancellationToken cancellationToken = default)
    {
        lock (database.Gate)
        {
            var now = Now;
            if (!database.Rows.TryGetValue(stripeEvent.Id, out var row))
            {
                database.Rows.Add(stripeEvent.Id, new DocumentedRow
                {
                    Type = stripeEvent.Type,
                    Payload = stripeEvent.RawJson.ToArray(),
                    State = WebhookEventState.Received,
                    NextAttemptAt = now,
                    ReceivedAt = now,
                    UpdatedAt = now,
                });
                return ValueTask.FromResult(true);
            }

            // "An event processed inline that failed or is still running … is handed to it now: due at once if it failed, and
            // if it is running, due when it fails or its holder's lease runs out."
            if (row.NextAttemptAt is null && row.Payload is not null && row.State is WebhookEventState.Failed or WebhookEventState.Processing)
            {
                row.NextAttemptAt = now;
                row.UpdatedAt = now;
                return ValueTask.FromResult(true);
            }

            return ValueTask.FromResult(false);
        }
    }

    public ValueTask<QueuedWebhookEvent?> ClaimNextAsync(CancellationToken cancellationToken = default)
    {
        lock (database.Gate)
        {
            var now = Now;
            // "The queued event that is due first (a new or failed event whose next attempt is due, or an event whose claim's
            // lease ran out)."
            var next = database.Rows
                .Where(pair =>
                    (pair.Value.State is WebhookEventState.Received or WebhookEventState.Failed && pair.Value.NextAttemptAt <= now)
                    || (pair.Value.State == WebhookEventState.Processing && pair.Value.LeaseExpiresAt <= now))
                .OrderBy(pair => pair.Value.State == WebhookEventState.Processing ? pair.Value.LeaseExpiresAt : pair.Value.NextAttemptAt)
                .Select(pair => (KeyValuePair<string, DocumentedRow>?)pair)
                .FirstOrDefault();
            if (next is not { Key: var id, Value: var row })
            {
                return ValueTask.FromResult<QueuedWebhookEvent?>(null);
            }

            var claim = Take(id, row, now);
            return ValueTask.FromResult<QueuedWebhookEvent?>(new QueuedWebhookEvent(id, row.Type, row.Payload ?? ReadOnlyMemory<byte>.Empty, claim));
        }
    }

    public ValueTask ScheduleRetryAsync(string id, string error, DateTimeOffset nextAttemptAt, CancellationToken cancellationToken = default) =>
        Write(id, row =>
        {
            row.State = WebhookEventState.Failed;
            row.LastError = error;
            row.NextAttemptAt = nextAttemptAt;
            Release(id, row);
        }, lostFails: false);

    public ValueTask ReleaseAsync(string id, string reason, DateTimeOffset nextAttemptAt, CancellationToken cancellationToken = default) =>
        Write(id, row =>
        {
            row.State = WebhookEventState.Failed;
            row.LastError = reason;
            row.NextAttemptAt = nextAttemptAt;
            row.Attempts = Math.Max(0, row.Attempts - 1);
            Release(id, row);
        }, lostFails: false);

    public ValueTask MarkDeadAsync(string id, string error, CancellationToken cancellationToken = default) =>
        Write(id, row =>
        {
            row.State = WebhookEventState.Dead;
            row.LastError = error;
            row.NextAttemptAt = null;
            Release(id, row);
        }, lostFails: false);

    public ValueTask<bool> ReplayAsync(string id, CancellationToken cancellationToken = default)
    {
        lock (database.Gate)
        {
            var now = Now;
            if (!database.Rows.TryGetValue(id, out var row) || row.Payload is null
                || !(row.State is WebhookEventState.Dead or WebhookEventState.Failed || (row.State == WebhookEventState.Processing && row.LeaseExpiresAt <= now)))
            {
                return ValueTask.FromResult(false);
            }

            row.State = WebhookEventState.Received;
            row.Attempts = 0;
            row.NextAttemptAt = now;
            row.LeaseToken = null;
            row.LeaseExpiresAt = null;
            row.UpdatedAt = now;
            return ValueTask.FromResult(true);
        }
    }

    public ValueTask<WebhookEventInfo?> FindAsync(string id, CancellationToken cancellationToken = default) => ValueTask.FromResult(database.Find(id));

    public ValueTask<IReadOnlyList<WebhookEventInfo>> ListAsync(WebhookEventState state, int limit, CancellationToken cancellationToken = default)
    {
        lock (database.Gate)
        {
            return ValueTask.FromResult<IReadOnlyList<WebhookEventInfo>>(
                [.. database.Rows.Where(pair => pair.Value.State == state).OrderByDescending(pair => pair.Value.UpdatedAt).Take(limit).Select(pair => pair.Value.ToInfo(pair.Key))]);
        }
    }

    public ValueTask<int> PruneProcessedEventsAsync(DateTimeOffset processedBefore, int limit, CancellationToken cancellationToken = default)
    {
        lock (database.Gate)
        {
            var old = database.Rows.Where(pair => pair.Value.State == WebhookEventState.Processed && pair.Value.Payload is not null && pair.Value.ProcessedAt < processedBefore)
                .Select(pair => pair.Key).Take(limit).ToList();
            old.ForEach(id => database.Rows.Remove(id));
            return ValueTask.FromResult(old.Count);
        }
    }

    protected string? TokenOf(string id)
    {
        lock (_tokens)
        {
            return _tokens.GetValueOrDefault(id);
        }
    }

    /// <summary>Whether this instance still holds the id's claim: by its token, or (no token) the id is in progress.</summary>
    protected bool Holds(string id, DocumentedRow row) =>
        TokenOf(id) is { } token ? row.LeaseToken == token : row.State == WebhookEventState.Processing;

    /// <summary>
    /// A mark, fenced by this instance's claim: it changes nothing for a claim another holder has taken, and a lost claim's
    /// processed mark fails. In a transaction it is applied at the commit.
    /// </summary>
    private ValueTask Write(string id, Action<DocumentedRow> change, bool lostFails)
    {
        var write = new PendingWrite(id, lostFails, change);
        lock (database.Gate)
        {
            if (lostFails && !IsHeld(write))
            {
                throw LostClaim(id);
            }

            if (Pending is { } pending)
            {
                pending.Add(write);
            }
            else
            {
                Apply(write);
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Whether the claim a write is fenced by is still this instance's. Under the database's lock.</summary>
    protected bool IsHeld(PendingWrite write) => database.Rows.TryGetValue(write.Id, out var row) && Holds(write.Id, row);

    /// <summary>Applies a write if its claim is still this instance's (else it changes nothing). Under the database's lock.</summary>
    protected void Apply(PendingWrite write)
    {
        if (database.Rows.TryGetValue(write.Id, out var row) && Holds(write.Id, row))
        {
            write.Change(row);
            row.UpdatedAt = Now;
        }
    }

    /// <summary>In a transaction, undoes a claim at the rollback, unless another holder has taken the id since.</summary>
    private void UndoUnlessTaken(string id, DocumentedRow row, Action undo)
    {
        var token = row.LeaseToken;
        if (Undo is not null)
        {
            // ITransactionalWebhookEventStore's remarks: a claim made inside the transaction holds until the transaction ends,
            // whatever its lease (nobody renews it), and its rollback undoes it.
            row.LeaseExpiresAt = DateTimeOffset.MaxValue;
            Held?.Add((id, token!));
        }

        Undo?.Add(() =>
        {
            if (database.Rows.TryGetValue(id, out var current) && current.LeaseToken == token)
            {
                undo();
            }
        });
    }

    protected static InvalidOperationException LostClaim(string id) => new($"The claim on '{id}' was lost.");

    private WebhookClaim Take(string id, DocumentedRow row, DateTimeOffset now)
    {
        var token = Guid.NewGuid().ToString("N");
        row.State = WebhookEventState.Processing;
        row.Attempts++;
        row.LeaseToken = token;
        row.LeaseExpiresAt = now + database.Lease;
        row.UpdatedAt = now;
        lock (_tokens)
        {
            _tokens[id] = token;
        }

        return new WebhookClaim(WebhookClaimStatus.Claimed, row.Attempts, row.Steps.Count == 0 ? null : [.. row.Steps]);
    }

    private void Release(string id, DocumentedRow row)
    {
        row.LeaseToken = null;
        row.LeaseExpiresAt = null;
        lock (_tokens)
        {
            _tokens.Remove(id);
        }
    }
}

/// <summary>
/// <see cref="DocumentedEventStore"/> with transactions, as <see cref="ITransactionalWebhookEventStore"/>'s docs describe
/// them: the marks made inside one (the handlers' writes would be too) are applied at its commit, all together, and the
/// processed mark of a lost claim fails the commit; a rollback applies none of them. A claim made inside one (a purchase's)
/// holds until it ends and is undone by its rollback, as the interface's remarks ask.
/// </summary>
public sealed class DocumentedTransactionalEventStore(DocumentedStoreDatabase database) : DocumentedEventStore(database), ITransactionalWebhookEventStore
{
    public async Task<TResult> ExecuteInTransactionAsync<TResult>(Func<CancellationToken, Task<TResult>> operation, CancellationToken cancellationToken = default)
    {
        if (Pending is not null)
        {
            return await operation(cancellationToken); // "When a transaction is already open, runs inside it."
        }

        Pending = [];
        Undo = [];
        Held = [];
        try
        {
            var result = await operation(cancellationToken);
            lock (Database.Gate)
            {
                // All or nothing: a processed mark whose claim was lost fails the commit before anything is applied.
                if (Pending.FirstOrDefault(write => write.LostFails && !IsHeld(write)) is { } lost)
                {
                    throw LostClaim(lost.Id);
                }

                Pending.ForEach(Apply);

                // The claims made in the transaction and still open after it get the lease they would have had.
                foreach (var (id, token) in Held)
                {
                    if (Database.Rows.TryGetValue(id, out var row) && row.LeaseToken == token)
                    {
                        row.LeaseExpiresAt = Database.Clock.GetUtcNow() + Database.Lease;
                    }
                }
            }

            return result;
        }
        catch
        {
            lock (Database.Gate)
            {
                for (var index = (Undo?.Count ?? 0) - 1; index >= 0; index--)
                {
                    Undo![index]();
                }
            }

            throw;
        }
        finally
        {
            Pending = null;
            Undo = null;
            Held = null;
        }
    }
}
