using System.Data.Common;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Wavhaven.Payments.EntityFrameworkCore.Internal;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.EntityFrameworkCore.Webhooks;

/// <summary>
/// The durable event log, claims and queue, in <c>wavhaven_webhook_events</c> on the app's DbContext (scoped:
/// one per delivery or queued attempt, sharing the handlers' context and so their transaction).
/// </summary>
/// <remarks>
/// <para>
/// Every claim is one statement that is atomic across processes: a new id is an <c>INSERT … ON CONFLICT DO
/// NOTHING</c> on the primary key; an existing one is an <c>UPDATE</c> whose <c>WHERE</c> admits only a
/// failed or queued row, or one whose lease ran out. The queue worker's claim picks the row due first with
/// <c>FOR UPDATE SKIP LOCKED</c> on PostgreSQL, so that instances never wait for one another; SQLite runs one
/// writer at a time, so the same statement is atomic there as it stands.
/// </para>
/// <para>
/// A claim writes a random lease token; completing or failing a claim requires it, so that a holder whose
/// lease ran out (and whose event another worker took) cannot record anything. In a transaction, a lost
/// claim makes <see cref="MarkProcessedAsync"/> throw, which rolls back that attempt's writes.
/// </para>
/// <para>
/// On PostgreSQL a claim is renewed while its handlers run (every third of the lease), on a context of its own from a new
/// scope: the handlers' context is busy with them, and their transaction's writes are not seen by others until it commits.
/// On SQLite it is not: the handlers' transaction holds the database's one write lock from its start, so no other
/// connection can take the claim over while they run, nor renew it.
/// </para>
/// </remarks>
internal sealed class EntityFrameworkWebhookEventStore(DbContext context, IOptions<StripePaymentsOptions> options, TimeProvider timeProvider, IServiceScopeFactory scopes, Type contextType)
    : ILockingWebhookEventStore, IWebhookEventQueue, IRenewableWebhookEventStore
{
    public const int MaxErrorLength = 2000;

    private const char StepSeparator = '\n';

    private readonly TimeSpan _claimLease = options.Value.WebhookClaimLease;
    // The tokens of this instance's claims, by id. Locked: a renewal reads it from a timer while the handlers claim and mark.
    private readonly Dictionary<string, string> _leases = new(StringComparer.Ordinal);
    private Statements? _sql;
    // The ids marked processed in the transaction of ExecuteInTransactionAsync now running, if any.
    private List<string>? _markedInTransaction;

    private Statements Sql => _sql ??= Statements.For(context);

    public async ValueTask<WebhookClaim> TryClaimAsync(string id, string type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ArgumentNullException.ThrowIfNull(type);
        var sql = Sql;
        var (payloadText, created) = Describe(payload);
        for (var round = 0; round < 3; round++)
        {
            var now = Now();
            var token = NewToken();
            var lease = now + _claimLease;
            var inserted = await StoreCommands.ExecuteAsync(context, sql.InsertClaim,
                [("@id", id), ("@type", type), ("@created", created), ("@payload", payloadText), ("@token", token), ("@lease", lease), ("@now", now)],
                cancellationToken).ConfigureAwait(false);
            if (inserted == 1)
            {
                SetLease(id, token);
                return new WebhookClaim(WebhookClaimStatus.Claimed, 1);
            }

            var retaken = await StoreCommands.RunAsync(context, sql.RetakeClaim,
                [("@id", id), ("@token", token), ("@lease", lease), ("@now", now)],
                static async (command, ct) =>
                {
                    var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                    await using (reader.ConfigureAwait(false))
                    {
                        return await reader.ReadAsync(ct).ConfigureAwait(false)
                            ? (Attempts: reader.GetInt32(0), Steps: reader.IsDBNull(1) ? null : reader.GetString(1))
                            : ((int Attempts, string? Steps)?)null;
                    }
                },
                cancellationToken).ConfigureAwait(false);
            if (retaken is { } claim)
            {
                SetLease(id, token);
                return new WebhookClaim(WebhookClaimStatus.Claimed, claim.Attempts, ParseSteps(claim.Steps));
            }

            var current = await ReadStateAsync(id, cancellationToken).ConfigureAwait(false);
            switch (current)
            {
                case { State: WebhookEventStates.Processed or WebhookEventStates.Dead } done:
                    return new WebhookClaim(WebhookClaimStatus.AlreadyProcessed, done.Attempts);
                case { } busy:
                    // Processing under a live lease, or changed between the two statements: either way not ours now.
                    return new WebhookClaim(WebhookClaimStatus.InProgress, busy.Attempts);
            }

            // The row vanished between the statements (deleted by hand): claim it afresh.
        }

        throw new InvalidOperationException($"The claim of webhook id '{id}' kept racing with deletions of its row; try again.");
    }

    public async ValueTask MarkStepCompletedAsync(string id, string step, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ArgumentException.ThrowIfNullOrEmpty(step);
        if (step.Contains(StepSeparator, StringComparison.Ordinal))
        {
            throw new ArgumentException("A step name cannot contain a line break.", nameof(step));
        }

        // In the handlers' transaction the mark could never outlast it: the transaction commits with the processed mark, which
        // clears the steps, or rolls back with them. Writing it would only lock the event's row until the last handler ends,
        // and a locked row's lease cannot be renewed: it would run out under the running handlers (a redelivery then waits
        // for them rather than being answered in progress, and the health check counts the event as a stalled backlog).
        if (context.Database.CurrentTransaction is not null)
        {
            return;
        }

        var (sql, token) = Fenced(id, Sql.MarkStepCompleted);
        await StoreCommands.ExecuteAsync(context, sql,
            [("@id", id), ("@token", token), ("@step", step), ("@separator", StepSeparator.ToString()), ("@now", Now())],
            cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask MarkProcessedAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        var (sql, token) = Fenced(id, Sql.MarkProcessed);
        var updated = await StoreCommands.ExecuteAsync(context, sql, [("@id", id), ("@token", token), ("@now", Now())], cancellationToken).ConfigureAwait(false);
        if (updated == 0 && token is not null)
        {
            // The token stays: the caller records this attempt's failure next, and that mark must stay fenced by it (and
            // so change nothing), not fall back to the state and overwrite the claim of whoever holds the id now.
            throw new InvalidOperationException(
                $"The claim on webhook id '{id}' was lost: its lease (Stripe:WebhookClaimLease) ran out and another delivery or worker took it. " +
                "This attempt is not recorded, and in a transaction its writes roll back. A claim is renewed while its handlers run, so its renewals could not reach the database for a whole lease.");
        }

        _markedInTransaction?.Add(id);
        RemoveLease(id);
    }

    public async ValueTask MarkFailedAsync(string id, string error, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        var (sql, token) = Fenced(id, Sql.MarkFailed);
        await StoreCommands.ExecuteAsync(context, sql, [("@id", id), ("@token", token), ("@error", Truncate(error)), ("@now", Now())], cancellationToken).ConfigureAwait(false);
        RemoveLease(id);
    }

    public async Task<TResult> ExecuteInTransactionAsync<TResult>(Func<CancellationToken, Task<TResult>> operation, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(operation);
        var database = context.Database;
        if (database.CurrentTransaction is not null)
        {
            return await operation(cancellationToken).ConfigureAwait(false);
        }

        // A retrying execution strategy (EnableRetryOnFailure) needs the whole unit inside it. It runs the unit again after a
        // transient failure, a commit's too, which may have committed before its acknowledgement was lost: it then asks
        // whether the unit's processed marks are in the database, and if so the unit is done, its handlers not run again.
        var strategy = database.CreateExecutionStrategy();
        var marked = new List<string>(2);
        var outcome = default(TResult)!;
        return await strategy.ExecuteAsync(
            operation,
            async (_, unit, ct) =>
            {
                marked.Clear();
                var transaction = await database.BeginTransactionAsync(ct).ConfigureAwait(false);
                await using (transaction.ConfigureAwait(false))
                {
                    var committing = false;
                    try
                    {
                        _markedInTransaction = marked;
                        outcome = await unit(ct).ConfigureAwait(false);
                        _markedInTransaction = null;
                        committing = true;
                        await transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);
                        return outcome;
                    }
                    catch
                    {
                        _markedInTransaction = null;
                        if (!committing)
                        {
                            // The unit itself failed: its transaction is rolled back, whatever the database says of the ids it
                            // marked (another delivery or the success page may have processed one since), so it did not commit.
                            marked.Clear();
                        }

                        // Disposing the transaction rolls it back; entities the handlers tracked are stale now.
                        context.ChangeTracker.Clear();
                        throw;
                    }
                }
            },
            async (_, _, ct) => new ExecutionResult<TResult>(await AllProcessedAsync(marked, ct).ConfigureAwait(false), outcome),
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Whether every id a unit marked processed is processed in the database: its commit went through.</summary>
    private async Task<bool> AllProcessedAsync(List<string> ids, CancellationToken cancellationToken)
    {
        if (ids.Count == 0)
        {
            return false;
        }

        foreach (var id in ids)
        {
            if ((await ReadStateAsync(id, cancellationToken).ConfigureAwait(false))?.State != WebhookEventStates.Processed)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The row's state and attempts, or <see langword="null"/> when there is no row.</summary>
    private Task<(string State, int Attempts)?> ReadStateAsync(string id, CancellationToken cancellationToken) =>
        StoreCommands.RunAsync(context, Sql.SelectState, [("@id", id)],
            static async (command, ct) =>
            {
                var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    return await reader.ReadAsync(ct).ConfigureAwait(false)
                        ? (State: reader.GetString(0), Attempts: reader.GetInt32(1))
                        : ((string State, int Attempts)?)null;
                }
            },
            cancellationToken);

    public async ValueTask LockAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        if (context.Database.CurrentTransaction is null)
        {
            throw new InvalidOperationException("A lock is taken for a transaction: call LockAsync inside ExecuteInTransactionAsync.");
        }

        // SQLite: the transaction began IMMEDIATE (Microsoft.Data.Sqlite's default), so it has held the database's one write
        // lock since then, and every other writer, on any connection, waits for its commit already.
        if (Sql.Provider == StoreProvider.PostgreSql)
        {
            // A transaction-level advisory lock on a 64-bit hash of the namespaced key: released by the commit or the rollback,
            // whatever happens to this process. Its wait is a statement's, ended by the token and by the command timeout.
            await StoreCommands.ExecuteAsync(context, Statements.Lock, [("@key", LockNamespace + key)], cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Keeps the library's advisory locks apart from any the app takes on the same database.</summary>
    private const string LockNamespace = "wavhaven.payments:";

    public TimeSpan ClaimRenewalPeriod => Sql.Provider == StoreProvider.PostgreSql ? _claimLease / 3 : Timeout.InfiniteTimeSpan;

    public async ValueTask<bool> RenewClaimAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        if (LeaseOf(id) is not { } token)
        {
            return true; // completed or released by this instance: nothing to renew, nothing lost
        }

        // Never the handlers' context: it is theirs while they run, and inside their transaction.
        var scope = scopes.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            var own = (DbContext)scope.ServiceProvider.GetRequiredService(contextType);
            var held = await StoreCommands.RunAsync(own, Statements.For(own).RenewClaim,
                [("@id", id), ("@token", token), ("@lease", Now() + _claimLease)],
                static async (command, ct) =>
                {
                    var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                    await using (reader.ConfigureAwait(false))
                    {
                        return await reader.ReadAsync(ct).ConfigureAwait(false);
                    }
                },
                cancellationToken).ConfigureAwait(false);

            // Not held, because this instance marked the claim (processed, failed) while the renewal was on its way: the
            // mark forgets the token before its transaction commits, so a renewal that read the token before the mark and
            // the row after the commit is answered for a claim completed, not lost.
            return held || LeaseOf(id) != token;
        }
    }

    public async ValueTask<bool> EnqueueAsync(StripeEvent stripeEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stripeEvent);
        var now = Now();
        var inserted = await StoreCommands.ExecuteAsync(context, Sql.Enqueue,
            [
                ("@id", stripeEvent.Id), ("@type", stripeEvent.Type), ("@created", stripeEvent.Created.UtcDateTime),
                ("@payload", Encoding.UTF8.GetString(stripeEvent.RawJson.Span)), ("@now", now),
            ],
            cancellationToken).ConfigureAwait(false);
        return inserted == 1;
    }

    public async ValueTask<QueuedWebhookEvent?> ClaimNextAsync(CancellationToken cancellationToken = default)
    {
        var now = Now();
        var token = NewToken();
        var row = await StoreCommands.RunAsync(context, Sql.ClaimNext, [("@token", token), ("@lease", now + _claimLease), ("@now", now)],
            static async (command, ct) =>
            {
                var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    if (!await reader.ReadAsync(ct).ConfigureAwait(false))
                    {
                        return null;
                    }

                    return new ClaimedRow(
                        reader.GetString(0),
                        reader.GetString(1),
                        reader.IsDBNull(2) ? string.Empty : reader.GetString(2),
                        reader.GetInt32(3),
                        reader.IsDBNull(4) ? null : reader.GetString(4));
                }
            },
            cancellationToken).ConfigureAwait(false);
        if (row is null)
        {
            return null;
        }

        SetLease(row.Id, token);
        return new QueuedWebhookEvent(row.Id, row.Type, Encoding.UTF8.GetBytes(row.Payload), new WebhookClaim(WebhookClaimStatus.Claimed, row.Attempts, ParseSteps(row.Steps)));
    }

    public ValueTask ScheduleRetryAsync(string id, string error, DateTimeOffset nextAttemptAt, CancellationToken cancellationToken = default) =>
        RescheduleAsync(Sql.ScheduleRetry, id, error, nextAttemptAt, cancellationToken);

    public ValueTask ReleaseAsync(string id, string reason, DateTimeOffset nextAttemptAt, CancellationToken cancellationToken = default) =>
        RescheduleAsync(Sql.Release, id, reason, nextAttemptAt, cancellationToken);

    /// <summary>Hands a claimed event back to the queue, due at <paramref name="nextAttemptAt"/>, by one of the two statements.</summary>
    private async ValueTask RescheduleAsync((string ByToken, string ByState) statement, string id, string error, DateTimeOffset nextAttemptAt, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        var (sql, token) = Fenced(id, statement);
        await StoreCommands.ExecuteAsync(context, sql,
            [("@id", id), ("@token", token), ("@error", Truncate(error)), ("@next", nextAttemptAt.UtcDateTime), ("@now", Now())],
            cancellationToken).ConfigureAwait(false);
        RemoveLease(id);
    }

    public async ValueTask MarkDeadAsync(string id, string error, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        var (sql, token) = Fenced(id, Sql.MarkDead);
        await StoreCommands.ExecuteAsync(context, sql, [("@id", id), ("@token", token), ("@error", Truncate(error)), ("@now", Now())], cancellationToken).ConfigureAwait(false);
        RemoveLease(id);
    }

    public async ValueTask<bool> ReplayAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        var updated = await StoreCommands.ExecuteAsync(context, Sql.Replay, [("@id", id), ("@now", Now())], cancellationToken).ConfigureAwait(false);
        return updated == 1;
    }

    public async ValueTask<int> PruneProcessedEventsAsync(DateTimeOffset processedBefore, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return await StoreCommands.ExecuteAsync(context, Sql.PruneProcessed, [("@before", processedBefore.UtcDateTime), ("@limit", limit)], cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<WebhookEventInfo?> FindAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        _ = Sql;
        var record = await context.Set<WebhookEventRecord>().AsNoTracking()
            .Where(e => e.Id == id)
            .Select(WithoutPayload)
            .FirstOrDefaultAsync(cancellationToken).ConfigureAwait(false);
        return record is null ? null : ToInfo(record);
    }

    public async ValueTask<IReadOnlyList<WebhookEventInfo>> ListAsync(WebhookEventState state, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        _ = Sql;
        var stateText = WebhookEventStates.From(state);
        var events = context.Set<WebhookEventRecord>().AsNoTracking().Where(e => e.State == stateText);
        if (state is WebhookEventState.Failed or WebhookEventState.Dead)
        {
            events = events.Where(InFailedOrDeadIndex);
        }

        var records = await events
            .OrderByDescending(e => e.UpdatedAt)
            .Take(limit)
            .Select(WithoutPayload)
            .ToListAsync(cancellationToken).ConfigureAwait(false);
        return [.. records.Select(ToInfo)];
    }

    public async ValueTask<IReadOnlyList<WebhookEventInfo>> ListGivenUpAsync(DateTimeOffset createdBefore, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        _ = Sql;
        var before = createdBefore.UtcDateTime;
        var records = await context.Set<WebhookEventRecord>().AsNoTracking()
            // Purchase claims have no payload (and nothing to replay): only events are listed.
            .Where(e => e.State == WebhookEventStates.Failed && e.NextAttemptAt == null && e.Payload != null
                && (e.Created ?? e.ReceivedAt) < before)
            .Where(InFailedOrDeadIndex)
            .OrderByDescending(e => e.UpdatedAt)
            .Take(limit)
            .Select(WithoutPayload)
            .ToListAsync(cancellationToken).ConfigureAwait(false);
        return [.. records.Select(ToInfo)];
    }

    public async ValueTask<WebhookQueueBacklog> GetBacklogAsync(DateTimeOffset overdueBefore, CancellationToken cancellationToken = default)
    {
        _ = Sql;
        var before = overdueBefore.UtcDateTime;
        var now = Now();

        // The rows the worker would take (as ClaimNext's Due): new and failed ones, due at their next attempt, and claimed
        // ones whose lease ran out (a worker that died), due since then. One aggregate, whatever their number.
        var backlog = await context.Set<WebhookEventRecord>().AsNoTracking()
            .Where(e => e.NextAttemptAt != null
                && (e.State == WebhookEventStates.Received || e.State == WebhookEventStates.Failed
                    || (e.State == WebhookEventStates.Processing && e.LeaseExpiresAt < now)))
            .Select(e => new { DueAt = e.State == WebhookEventStates.Processing ? e.LeaseExpiresAt : e.NextAttemptAt })
            .GroupBy(_ => 1)
            .Select(g => new { Queued = g.Count(), Overdue = g.Count(e => e.DueAt < before), Oldest = g.Min(e => e.DueAt) })
            .SingleOrDefaultAsync(cancellationToken).ConfigureAwait(false); // one group at most; First would log EF's warning
        return backlog is null ? default : new WebhookQueueBacklog(backlog.Queued, backlog.Overdue, ToOffset(backlog.Oldest));
    }

    /// <summary>
    /// The condition of the index on failed and dead rows, word for word (<c>state IN ('failed', 'dead')</c>): SQLite uses a
    /// partial index only for a query that states its condition, not one that implies it (<c>state = 'dead'</c>).
    /// </summary>
    private static readonly System.Linq.Expressions.Expression<Func<WebhookEventRecord, bool>> InFailedOrDeadIndex =
        e => e.State == WebhookEventStates.Failed || e.State == WebhookEventStates.Dead;

    /// <summary>Every column but the payload: the health check lists up to 1,000 events of a kind on each probe.</summary>
    private static readonly System.Linq.Expressions.Expression<Func<WebhookEventRecord, WebhookEventRecord>> WithoutPayload = e => new WebhookEventRecord
    {
        Id = e.Id,
        Type = e.Type,
        State = e.State,
        Attempts = e.Attempts,
        LastError = e.LastError,
        Created = e.Created,
        ReceivedAt = e.ReceivedAt,
        UpdatedAt = e.UpdatedAt,
        ProcessedAt = e.ProcessedAt,
        NextAttemptAt = e.NextAttemptAt,
    };

    private static WebhookEventInfo ToInfo(WebhookEventRecord record) => new(
        record.Id,
        record.Type,
        WebhookEventStates.Parse(record.State),
        record.Attempts,
        record.LastError,
        ToOffset(record.Created),
        new DateTimeOffset(record.ReceivedAt, TimeSpan.Zero),
        new DateTimeOffset(record.UpdatedAt, TimeSpan.Zero),
        ToOffset(record.ProcessedAt),
        ToOffset(record.NextAttemptAt));

    private static DateTimeOffset? ToOffset(DateTime? value) => value is { } time ? new DateTimeOffset(time, TimeSpan.Zero) : null;

    /// <summary>The statement fenced by this store's lease token when it claimed the id, else by the processing state.</summary>
    private (string Sql, string? Token) Fenced(string id, (string ByToken, string ByState) statement) =>
        LeaseOf(id) is { } token ? (statement.ByToken, token) : (statement.ByState, null);

    private string? LeaseOf(string id)
    {
        lock (_leases)
        {
            return _leases.GetValueOrDefault(id);
        }
    }

    private void SetLease(string id, string token)
    {
        lock (_leases)
        {
            _leases[id] = token;
        }
    }

    private void RemoveLease(string id)
    {
        lock (_leases)
        {
            _leases.Remove(id);
        }
    }

    private DateTime Now() => timeProvider.GetUtcNow().UtcDateTime;

    private static string NewToken() => Guid.NewGuid().ToString("N");

    /// <summary>
    /// The error as its column can hold it: at most <see cref="MaxErrorLength"/> characters, cut before a surrogate pair
    /// rather than inside it, with NUL (which PostgreSQL's text refuses) and any lone surrogate (which UTF-8 cannot carry)
    /// replaced by U+FFFD. A failure mark that threw would replace the handler's error with its own, and leave the claim in
    /// progress until its lease ran out.
    /// </summary>
    private static string Truncate(string? error)
    {
        if (string.IsNullOrEmpty(error))
        {
            return "(no message)";
        }

        var length = Math.Min(error.Length, MaxErrorLength);
        if (length < error.Length && char.IsHighSurrogate(error[length - 1]))
        {
            length--;
        }

        var text = error.AsSpan(0, length);
        if (!text.ContainsAnyInRange('\uD800', '\uDFFF') && !text.Contains('\0'))
        {
            return length == error.Length ? error : text.ToString();
        }

        // UTF-8's encoder writes U+FFFD for a lone surrogate: the round trip leaves pairs whole and replaces the rest.
        return Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(text.ToArray())).Replace('\0', '\uFFFD');
    }

    private static string[]? ParseSteps(string? steps) =>
        string.IsNullOrEmpty(steps) ? null : steps.Split(StepSeparator, StringSplitOptions.RemoveEmptyEntries);

    private static (string? Payload, DateTime? Created) Describe(ReadOnlyMemory<byte> payload) =>
        payload.IsEmpty ? (null, null) : (Encoding.UTF8.GetString(payload.Span), ReadCreated(payload.Span));

    /// <summary>
    /// Reads the envelope's <c>created</c> without parsing the event again: Stripe writes it before <c>data</c>,
    /// so the reader stops after a few tokens.
    /// </summary>
    private static DateTime? ReadCreated(ReadOnlySpan<byte> payload)
    {
        try
        {
            var reader = new Utf8JsonReader(payload);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isCreated = reader.ValueTextEquals("created"u8);
                reader.Read();
                if (isCreated)
                {
                    return reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var seconds)
                        ? DateTimeOffset.FromUnixTimeSeconds(seconds).UtcDateTime
                        : null;
                }

                reader.Skip();
            }
        }
        catch (JsonException)
        {
        }
        catch (ArgumentOutOfRangeException)
        {
        }

        return null;
    }

    private sealed record ClaimedRow(string Id, string Type, string Payload, int Attempts, string? Steps);

    /// <summary>The store's statements for one model's table and provider.</summary>
    private sealed class Statements
    {
        private static readonly ConditionalWeakTable<StoreModel, Statements> Cache = [];

        private Statements(string table, StoreProvider provider)
        {
            const string Columns = "id, type, created, payload, state, attempts";
            InsertClaim = $"""
                INSERT INTO {table} ({Columns}, lease_token, lease_expires_at, received_at, updated_at)
                VALUES (@id, @type, @created, @payload, 'processing', 1, @token, @lease, @now, @now)
                ON CONFLICT (id) DO NOTHING
                """;
            RetakeClaim = $"""
                UPDATE {table}
                SET state = 'processing', attempts = attempts + 1, lease_token = @token, lease_expires_at = @lease, updated_at = @now
                WHERE id = @id AND (state IN ('received', 'failed') OR (state = 'processing' AND lease_expires_at < @now))
                RETURNING attempts, completed_steps
                """;
            SelectState = $"SELECT state, attempts FROM {table} WHERE id = @id";
            // An inline claim (no next_attempt_at) that failed, or is still running, becomes the worker's: a running one
            // stays its holder's while its lease lasts (the worker takes only failed rows and expired leases), is left
            // alone by its success (MarkProcessed clears next_attempt_at), and after a failure is due at once. So the
            // redelivery that reaches a queued instance during a rolling deploy may be answered 200: the event will run.
            Enqueue = $"""
                INSERT INTO {table} AS existing ({Columns}, next_attempt_at, received_at, updated_at)
                VALUES (@id, @type, @created, @payload, 'received', 0, @now, @now, @now)
                ON CONFLICT (id) DO UPDATE SET next_attempt_at = @now, updated_at = @now
                WHERE existing.next_attempt_at IS NULL AND existing.payload IS NOT NULL
                  AND existing.state IN ('failed', 'processing')
                """;

            // Queued rows are those with next_attempt_at: inline claims and purchase claims never have one, so
            // the worker never takes them over.
            const string Due = """
                next_attempt_at IS NOT NULL
                AND ((state IN ('received', 'failed') AND next_attempt_at <= @now) OR (state = 'processing' AND lease_expires_at < @now))
                """;
            var skipLocked = provider == StoreProvider.PostgreSql ? "FOR UPDATE SKIP LOCKED" : string.Empty;
            Provider = provider;
            // A row this claim's own transaction has locked (the processed mark; steps are not marked in it) cannot be extended from
            // outside it, and need not be: until that transaction ends, every other claimer waits for it or skips it. So a
            // locked row whose committed token is still ours is held, unchanged; a row is returned exactly when it is held. A
            // renewal only ever extends the lease: after this instance's clock stepped back, a lease set from it would end
            // before the one it already holds, and other instances would take the live claim over.
            RenewClaim = provider == StoreProvider.PostgreSql
                ? $"""
                    WITH renewed AS (
                        UPDATE {table} SET lease_expires_at = GREATEST(lease_expires_at, @lease)
                        WHERE id = (SELECT id FROM {table} WHERE id = @id AND lease_token = @token AND state = 'processing' FOR UPDATE SKIP LOCKED)
                        RETURNING id)
                    SELECT 1 WHERE EXISTS (SELECT 1 FROM renewed)
                        OR EXISTS (SELECT 1 FROM {table} WHERE id = @id AND lease_token = @token AND state = 'processing')
                    """
                : $"""
                    UPDATE {table} SET lease_expires_at = MAX(lease_expires_at, @lease)
                    WHERE id = @id AND lease_token = @token AND state = 'processing'
                    RETURNING 1
                    """;
            ClaimNext = $"""
                UPDATE {table}
                SET state = 'processing', attempts = attempts + 1, lease_token = @token, lease_expires_at = @lease, updated_at = @now
                WHERE id = (SELECT id FROM {table} WHERE {Due} ORDER BY next_attempt_at LIMIT 1 {skipLocked})
                  AND {Due}
                RETURNING id, type, payload, attempts, completed_steps
                """;
            MarkStepCompleted = Fence($"""
                UPDATE {table}
                SET completed_steps = CASE WHEN completed_steps IS NULL OR completed_steps = '' THEN @step ELSE completed_steps || @separator || @step END,
                    updated_at = @now
                WHERE id = @id
                """);
            // A purchase's row (no payload) is never pruned: it forgets what a failed attempt threw (a handler's message
            // often quotes the buyer's email) once it is fulfilled. An event's row keeps it until the pruner deletes the row.
            MarkProcessed = Fence($"""
                UPDATE {table}
                SET state = 'processed', processed_at = @now, updated_at = @now, completed_steps = NULL,
                    lease_token = NULL, lease_expires_at = NULL, next_attempt_at = NULL,
                    last_error = CASE WHEN payload IS NULL THEN NULL ELSE last_error END
                WHERE id = @id
                """);
            MarkFailed = Fence($"""
                UPDATE {table}
                SET state = 'failed', last_error = @error, updated_at = @now, lease_token = NULL, lease_expires_at = NULL
                WHERE id = @id
                """);
            ScheduleRetry = Fence($"""
                UPDATE {table}
                SET state = 'failed', last_error = @error, next_attempt_at = @next, updated_at = @now, lease_token = NULL, lease_expires_at = NULL
                WHERE id = @id
                """);
            // The claim that handed it out counted an attempt; a release gives it back.
            Release = Fence($"""
                UPDATE {table}
                SET state = 'failed', last_error = @error, next_attempt_at = @next, updated_at = @now, lease_token = NULL, lease_expires_at = NULL,
                    attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END
                WHERE id = @id
                """);
            MarkDead = Fence($"""
                UPDATE {table}
                SET state = 'dead', last_error = @error, next_attempt_at = NULL, updated_at = @now, lease_token = NULL, lease_expires_at = NULL
                WHERE id = @id
                """);
            // Purchase claims have no payload and are kept: they stop a fulfillment running twice, however late.
            PruneProcessed = $"""
                DELETE FROM {table}
                WHERE id IN (SELECT id FROM {table} WHERE state = 'processed' AND payload IS NOT NULL AND processed_at < @before LIMIT @limit)
                """;
            Replay = $"""
                UPDATE {table}
                SET state = 'received', attempts = 0, next_attempt_at = @now, updated_at = @now, lease_token = NULL, lease_expires_at = NULL
                WHERE id = @id AND payload IS NOT NULL
                  AND (state IN ('dead', 'failed') OR (state = 'processing' AND lease_expires_at < @now))
                """;
        }

        /// <summary>PostgreSQL's transaction-level advisory lock on a key's 64-bit hash (hashtextextended: PostgreSQL 11 and later).</summary>
        public const string Lock = "SELECT pg_advisory_xact_lock(hashtextextended(@key, 0))";

        public StoreProvider Provider { get; }

        public string InsertClaim { get; }

        public string RenewClaim { get; }

        public string PruneProcessed { get; }

        public string RetakeClaim { get; }

        public string SelectState { get; }

        public string Enqueue { get; }

        public string ClaimNext { get; }

        public (string ByToken, string ByState) MarkStepCompleted { get; }

        public (string ByToken, string ByState) MarkProcessed { get; }

        public (string ByToken, string ByState) MarkFailed { get; }

        public (string ByToken, string ByState) ScheduleRetry { get; }

        public (string ByToken, string ByState) Release { get; }

        public (string ByToken, string ByState) MarkDead { get; }

        public string Replay { get; }

        public static Statements For(DbContext context)
        {
            var model = StoreModel.For(context);
            if (Cache.TryGetValue(model, out var cached))
            {
                return cached;
            }

            var table = model.WebhookEvents ?? throw new InvalidOperationException(StoreModel.MissingTablesMessage(context));
            var created = new Statements(table, model.Provider);
            return Cache.GetValue(model, _ => created);
        }

        private static (string ByToken, string ByState) Fence(string statement) =>
            (statement + " AND lease_token = @token", statement + " AND state = 'processing'");
    }
}
