using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Wavhaven.Payments.AspNetCore.Tests.Support;
using Wavhaven.Payments.EntityFrameworkCore.Tests.Support;
using Wavhaven.Payments.Subscriptions;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.EntityFrameworkCore.Tests.Webhooks;

/// <summary>
/// Two events of one subscription handled at the same moment by two instances of an app on one database, with the
/// emulator as Stripe: the first instance's handler is held after its fetch saw the old state, the subscription changes,
/// and the second instance receives the newer event. Its fetch must wait for the first one's commit, so that the account
/// the handlers write in the database ends on the newer state.
/// </summary>
public sealed class SubscriptionSerializationTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private EmulatedStripe _stripe = null!;

    public async Task InitializeAsync() => _stripe = await EmulatedStripe.StartAsync();

    public async Task DisposeAsync() => await _stripe.DisposeAsync();

    /// <summary>The app's account row, kept in the test context's orders table: one row per subscription, its state.</summary>
    public sealed class AccountHandler(SubscriptionGate gate, TestDbContext db) : ISubscriptionHandler
    {
        public async Task HandleAsync(SubscriptionChange change, CancellationToken cancellationToken)
        {
            await gate.PassAsync(change, cancellationToken);
            var account = await db.Orders.SingleOrDefaultAsync(o => o.SessionId == change.SubscriptionId, cancellationToken);
            if (account is null)
            {
                db.Orders.Add(new Order { SessionId = change.SubscriptionId, EventId = SubscriptionGate.State(change) });
            }
            else
            {
                account.EventId = SubscriptionGate.State(change);
            }

            await db.SaveChangesAsync(cancellationToken);
            gate.Saved.Enqueue(change.SubscriptionId + " " + SubscriptionGate.State(change));
        }
    }

    // SQLite held already (a handler's transaction holds the file's one write lock from its start): kept as a guard.
    [SkippableTheory]
    [InlineData(DatabaseKind.PostgreSql, WebhookProcessingMode.Inline)]
    [InlineData(DatabaseKind.PostgreSql, WebhookProcessingMode.Queued)]
    [InlineData(DatabaseKind.Sqlite, WebhookProcessingMode.Inline)]
    public async Task TwoInstances_TwoEventsOfOneSubscriptionAtOnce_TheAccountEndsOnTheNewerState(DatabaseKind kind, WebhookProcessingMode mode)
    {
        await using var database = await TestDatabase.CreateAsync(kind);
        var gate = new SubscriptionGate();
        await using var first = await StartAsync(database, gate, mode);
        await using var second = await StartAsync(database, gate, mode);
        var subscription = await _stripe.SubscribeAsync("user-1");
        var key = await _stripe.TurnKeyAsync(subscription);
        gate.HoldNext();
        var created = first.PostAsync(_stripe.LastEvent("customer.subscription.created", subscription));
        (await gate.Held.Task.WaitAsync(Patience)).Should().Be("active, renews");
        await _stripe.CancelAtPeriodEndAsync(subscription);

        var updated = second.PostAsync(_stripe.LastEvent("customer.subscription.updated", subscription));
        // Queued, either instance's worker may take it: the one holding the subscription hands it back (due again soon),
        // the other's waits for the advisory lock.
        int WaitingInProcess() => new[] { first, second }.Max(app => app.Services.GetRequiredService<WebhookDispatcher>().LockUsers(key));
        await WaitUntilWaitingOrDoneAsync(database, () => mode == WebhookProcessingMode.Inline ? updated.IsCompleted : !gate.Saved.IsEmpty || WaitingInProcess() == 2);
        gate.Release.SetResult();

        (await created.WaitAsync(Patience)).StatusCode.Should().Be(HttpStatusCode.OK);
        (await updated.WaitAsync(Patience)).StatusCode.Should().Be(HttpStatusCode.OK);
        await Probe.WaitUntilAsync(() => gate.Saved.Count == 2, "both handlers saved");
        gate.Saved.Should().Equal(
            [subscription + " active, renews", subscription + " active, cancels at period end"],
            "the second instance fetched after the first one's handlers committed");
        await using var context = database.CreateContext();
        (await context.Orders.SingleAsync(o => o.SessionId == subscription)).EventId.Should().Be("active, cancels at period end");
        (await AdvisoryLocksAsync(database)).Should().Be(0, "every lock went with its transaction");
    }

    [SkippableFact]
    public async Task PostgreSql_EventsOfTwoSubscriptions_RunAtOnce()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseKind.PostgreSql);
        var gate = new SubscriptionGate();
        await using var first = await StartAsync(database, gate, WebhookProcessingMode.Inline);
        await using var second = await StartAsync(database, gate, WebhookProcessingMode.Inline);
        var held = await _stripe.SubscribeAsync("user-1");
        var other = await _stripe.SubscribeAsync("user-2");
        gate.HoldNext();
        var created = first.PostAsync(_stripe.LastEvent("customer.subscription.created", held));
        await gate.Held.Task.WaitAsync(Patience);

        using var answer = await second.PostAsync(_stripe.LastEvent("customer.subscription.created", other)).WaitAsync(Patience);

        answer.StatusCode.Should().Be(HttpStatusCode.OK, "another subscription's event does not wait for this one's");
        gate.Saved.Should().Equal(other + " active, renews");
        gate.Release.SetResult();
        (await created.WaitAsync(Patience)).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [SkippableFact]
    public async Task PostgreSql_ACancelledWait_LeavesNothingLocked_AndItsEventRunsOnItsRedelivery()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseKind.PostgreSql);
        var gate = new SubscriptionGate();
        await using var first = await StartAsync(database, gate, WebhookProcessingMode.Inline);
        await using var second = await StartAsync(database, gate, WebhookProcessingMode.Inline);
        var subscription = await _stripe.SubscribeAsync("user-1");
        gate.HoldNext();
        var created = first.PostAsync(_stripe.LastEvent("customer.subscription.created", subscription));
        await gate.Held.Task.WaitAsync(Patience);
        await _stripe.CancelAtPeriodEndAsync(subscription);
        var updated = _stripe.LastEvent("customer.subscription.updated", subscription);

        // The endpoint hands the processor the request's token: Stripe giving up on the delivery cancels it.
        using var aborted = new CancellationTokenSource();
        var waiting = second.Services.GetRequiredService<IWebhookProcessor>()
            .ProcessAsync(updated, StripeWebhookSignature.CreateHeader(updated, WebhookTestApp.Secret, DateTimeOffset.UtcNow), aborted.Token);
        await WaitUntilWaitingOrDoneAsync(database, () => waiting.IsCompleted);
        waiting.IsCompleted.Should().BeFalse("the second instance waits for the first one's transaction");
        await aborted.CancelAsync();

        await FluentActions.Awaiting(() => waiting).Should().ThrowAsync<OperationCanceledException>();
        await Probe.WaitForAsync(() => WaitingForAdvisoryLocksAsync(database), waiters => waiters == 0, "the cancelled wait left the lock's queue");
        gate.Release.SetResult();
        (await created.WaitAsync(Patience)).StatusCode.Should().Be(HttpStatusCode.OK);
        (await AdvisoryLocksAsync(database)).Should().Be(0, "nothing is left locked");

        using var redelivery = await second.PostAsync(updated).WaitAsync(Patience);
        redelivery.StatusCode.Should().Be(HttpStatusCode.OK, "the cancelled delivery released its claim and holds no lock");
        gate.Saved.Should().Equal(subscription + " active, renews", subscription + " active, cancels at period end");
    }

    /// <summary>
    /// Queued, a worker slot is taken by an event that only waits for its subscription's lock: with as many events of one
    /// subscription as slots (a renewal run, a burst of updates), the instance's worker holds every slot and runs one event
    /// at a time, while the events of other subscriptions, due, wait for a slot. The README says they still run at once.
    /// </summary>
    [SkippableFact]
    public async Task PostgreSql_Queued_EventsWaitingForOneSubscription_DoNotHoldBackAnotherSubscriptionsEvent()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseKind.PostgreSql);
        var gate = new SubscriptionGate();
        await using var app = await StartAsync(database, gate, WebhookProcessingMode.Queued, maxConcurrency: 2);
        var busy = await _stripe.SubscribeAsync("user-1");
        var busyKey = await _stripe.TurnKeyAsync(busy);
        var other = await _stripe.SubscribeAsync("user-2");
        gate.HoldNext();
        using (var queued = await app.PostAsync(_stripe.LastEvent("customer.subscription.created", busy)))
        {
            queued.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        await gate.Held.Task.WaitAsync(Patience);
        await _stripe.CancelAtPeriodEndAsync(busy);
        var updated = _stripe.LastEvent("customer.subscription.updated", busy);
        using (var queued = await app.PostAsync(updated))
        {
            queued.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        // The worker has taken the busy subscription's second event: it waits for the lock, or was handed back.
        var dispatcher = app.Services.GetRequiredService<WebhookDispatcher>();
        var updatedId = System.Text.Json.Nodes.JsonNode.Parse(updated)!["id"]!.GetValue<string>();
        await Probe.WaitForAsync(
            async () => dispatcher.LockUsers(busyKey) == 2 || (await app.GetEventAsync(updatedId))?.LastError is not null,
            taken => taken,
            "the worker took the busy subscription's second event");

        using (var queued = await app.PostAsync(_stripe.LastEvent("customer.subscription.created", other)))
        {
            queued.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        try
        {
            await Probe.WaitUntilAsync(() => gate.Saved.Contains(other + " active, renews"), "the other subscription's event ran", TimeSpan.FromSeconds(10));
        }
        finally
        {
            gate.Release.TrySetResult();
        }

        await Probe.WaitUntilAsync(() => gate.Saved.Count == 3, "every event ran");
        gate.Saved.Should().EndWith(busy + " active, cancels at period end");
    }

    private Task<DurableApp> StartAsync(TestDatabase database, SubscriptionGate gate, WebhookProcessingMode mode, int? maxConcurrency = null) => DurableApp.StartAsync(
        database,
        new Probe(),
        options =>
        {
            _stripe.Configure(options);
            if (mode == WebhookProcessingMode.Queued)
            {
                DurableApp.QueuedForTests(options);
            }

            if (maxConcurrency is { } slots)
            {
                options.WebhookQueue.MaxConcurrency = slots;
            }
        },
        payments: payments => payments.AddSubscriptionHandler<AccountHandler>(),
        services: services =>
        {
            services.AddSingleton(gate);
            EmulatedStripe.UseNetwork(services);
        });

    /// <summary>
    /// Waits until a transaction waits for an advisory lock (PostgreSQL) or <paramref name="done"/>; on SQLite, where a
    /// writer's wait cannot be seen from outside, a second at most.
    /// </summary>
    private static async Task WaitUntilWaitingOrDoneAsync(TestDatabase database, Func<bool> done)
    {
        if (database.Kind == DatabaseKind.Sqlite)
        {
            await Probe.WaitUntilAsync(done, "a second passed", TimeSpan.FromSeconds(1)).ContinueWith(_ => { }, TaskScheduler.Default);
            return;
        }

        var deadline = DateTime.UtcNow + Patience;
        while (!done() && await WaitingForAdvisoryLocksAsync(database) == 0)
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "the second delivery should end or wait within the test's patience");
            await Task.Delay(10);
        }
    }

    private static Task<long> WaitingForAdvisoryLocksAsync(TestDatabase database) =>
        CountAdvisoryLocksAsync(database, "AND NOT granted");

    private static Task<long> AdvisoryLocksAsync(TestDatabase database) =>
        database.Kind == DatabaseKind.PostgreSql ? CountAdvisoryLocksAsync(database, string.Empty) : Task.FromResult(0L);

    private static async Task<long> CountAdvisoryLocksAsync(TestDatabase database, string condition)
    {
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) " + condition,
            connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
