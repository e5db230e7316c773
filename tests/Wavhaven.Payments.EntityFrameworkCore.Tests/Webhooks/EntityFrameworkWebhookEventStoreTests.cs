using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Wavhaven.Payments.AspNetCore.Tests.Support;
using Wavhaven.Payments.EntityFrameworkCore.Tests.Support;
using Wavhaven.Payments.Tests.Support;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.EntityFrameworkCore.Tests.Webhooks;

/// <summary>The store's claims, leases and queue, on a fake clock; each scope stands for one delivery or worker.</summary>
public class EntityFrameworkWebhookEventStoreTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(5);

    [SkippableTheory]
    [InlineData(DatabaseKind.Sqlite)]
    [InlineData(DatabaseKind.PostgreSql)]
    public async Task ConcurrentClaimsOfOneId_AreWonByExactlyOne(DatabaseKind kind)
    {
        await using var database = await TestDatabase.CreateAsync(kind);
        await using var services = StoreServices.Build(database);

        var claims = await Task.WhenAll(Enumerable.Range(0, 24).Select(async _ =>
        {
            await using var scope = services.CreateAsyncScope();
            return (await Store(scope).TryClaimAsync("evt_race", "charge.refunded", Encoding.UTF8.GetBytes("{}"))).Status;
        }));

        claims.Count(status => status == WebhookClaimStatus.Claimed).Should().Be(1);
        claims.Where(status => status != WebhookClaimStatus.Claimed).Should().OnlyContain(status => status == WebhookClaimStatus.InProgress);
    }

    [SkippableTheory]
    [InlineData(DatabaseKind.Sqlite)]
    [InlineData(DatabaseKind.PostgreSql)]
    public async Task ClaimWhoseLeaseRanOut_IsTakenOver_AndTheFirstHolderCannotCompleteIt(DatabaseKind kind)
    {
        await using var database = await TestDatabase.CreateAsync(kind);
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var services = StoreServices.Build(database, clock, o => o.WebhookClaimLease = Lease);
        await using var first = services.CreateAsyncScope();
        await using var second = services.CreateAsyncScope();
        var purchase = "checkout.session:cs_test_lease";

        (await Store(first).TryClaimAsync(purchase, "checkout.fulfillment", ReadOnlyMemory<byte>.Empty)).Should().Be(new WebhookClaim(WebhookClaimStatus.Claimed, 1));
        (await Store(second).TryClaimAsync(purchase, "checkout.fulfillment", ReadOnlyMemory<byte>.Empty)).Status.Should().Be(WebhookClaimStatus.InProgress);

        clock.Advance(Lease + TimeSpan.FromSeconds(1));
        var takeover = await Store(second).TryClaimAsync(purchase, "checkout.fulfillment", ReadOnlyMemory<byte>.Empty);

        takeover.Should().Be(new WebhookClaim(WebhookClaimStatus.Claimed, 2));
        var lost = async () => await Store(first).MarkProcessedAsync(purchase);
        await lost.Should().ThrowAsync<InvalidOperationException>().WithMessage("*lease*ran out*");
        await Store(second).MarkProcessedAsync(purchase);
        await using var third = services.CreateAsyncScope();
        (await Store(third).TryClaimAsync(purchase, "checkout.fulfillment", ReadOnlyMemory<byte>.Empty)).Status.Should().Be(WebhookClaimStatus.AlreadyProcessed);
    }

    [SkippableTheory]
    [InlineData(DatabaseKind.Sqlite, "failed")]
    [InlineData(DatabaseKind.Sqlite, "retry")]
    [InlineData(DatabaseKind.Sqlite, "dead")]
    [InlineData(DatabaseKind.PostgreSql, "failed")]
    [InlineData(DatabaseKind.PostgreSql, "retry")]
    [InlineData(DatabaseKind.PostgreSql, "dead")]
    public async Task HolderThatLostItsClaim_RecordingItsFailure_LeavesTheNewHoldersClaimAlone(DatabaseKind kind, string mark)
    {
        // After its processed mark finds the claim lost, the processor or the worker records the attempt's failure:
        // that mark must not overwrite the claim of the delivery or worker that took the id over.
        await using var database = await TestDatabase.CreateAsync(kind);
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var services = StoreServices.Build(database, clock, o => o.WebhookClaimLease = Lease);
        var stripeEvent = StripeEvent.Parse(DurableApp.Body(TestEvents.Event("charge.refunded", StripeFixtures.Get("charge"))));
        await using var stale = services.CreateAsyncScope();
        await using var current = services.CreateAsyncScope();
        (await Queue(stale).EnqueueAsync(stripeEvent)).Should().BeTrue();
        (await Queue(stale).ClaimNextAsync())!.Id.Should().Be(stripeEvent.Id);
        clock.Advance(Lease + TimeSpan.FromSeconds(1));
        (await Queue(current).ClaimNextAsync())!.Id.Should().Be(stripeEvent.Id, "the stale holder's lease ran out");
        var lost = async () => await Store(stale).MarkProcessedAsync(stripeEvent.Id);
        await lost.Should().ThrowAsync<InvalidOperationException>();

        await (mark switch
        {
            "failed" => Store(stale).MarkFailedAsync(stripeEvent.Id, "claim lost"),
            "retry" => Queue(stale).ScheduleRetryAsync(stripeEvent.Id, "claim lost", clock.GetUtcNow()),
            _ => Queue(stale).MarkDeadAsync(stripeEvent.Id, "claim lost"),
        });

        (await Queue(current).FindAsync(stripeEvent.Id))!.State.Should().Be(WebhookEventState.Processing, "the new holder's claim is not the stale holder's to change");
        await Store(current).MarkProcessedAsync(stripeEvent.Id);
        (await Queue(current).FindAsync(stripeEvent.Id))!.State.Should().Be(WebhookEventState.Processed);
    }

    /// <summary>
    /// A handler's error went into the failure mark as it was, cut at 2,000 characters: a cut inside an emoji, or a NUL in
    /// the message, made PostgreSQL refuse the mark, which then threw instead of recording the failure and left the claim
    /// in progress until its lease ran out.
    /// </summary>
    [SkippableTheory]
    [InlineData(DatabaseKind.Sqlite, "emoji cut by the limit")]
    [InlineData(DatabaseKind.PostgreSql, "emoji cut by the limit")]
    [InlineData(DatabaseKind.Sqlite, "NUL")]
    [InlineData(DatabaseKind.PostgreSql, "NUL")]
    [InlineData(DatabaseKind.PostgreSql, "lone surrogate")]
    public async Task FailureMark_OfAnyMessage_IsRecorded(DatabaseKind kind, string message)
    {
        await using var database = await TestDatabase.CreateAsync(kind);
        await using var services = StoreServices.Build(database);
        await using var scope = services.CreateAsyncScope();
        var error = message switch
        {
            "emoji cut by the limit" => new string('x', 1999) + "\U0001F4A5 boom", // the 2,000th character is the emoji's first half
            "NUL" => "InvalidOperationException: bad byte \0 in input",
            _ => "InvalidOperationException: half an emoji \uD83D here",
        };
        (await Store(scope).TryClaimAsync("evt_odd_error", "charge.refunded", Encoding.UTF8.GetBytes("{}"))).Status.Should().Be(WebhookClaimStatus.Claimed);

        await Store(scope).MarkFailedAsync("evt_odd_error", error);

        var info = await Queue(scope).FindAsync("evt_odd_error");
        info!.State.Should().Be(WebhookEventState.Failed);
        info.LastError.Should().StartWith(error[..30].Replace('\0', '\uFFFD').Replace('\uD83D', '\uFFFD'));
        info.LastError!.Length.Should().BeLessThanOrEqualTo(2000);
    }

    [SkippableTheory]
    [InlineData(DatabaseKind.Sqlite)]
    [InlineData(DatabaseKind.PostgreSql)]
    public async Task FailedClaim_IsClaimedAgain_WithTheStepsItCompleted(DatabaseKind kind)
    {
        await using var database = await TestDatabase.CreateAsync(kind);
        await using var services = StoreServices.Build(database);
        var body = DurableApp.Body(TestEvents.Event("charge.refunded", StripeFixtures.Get("charge")));
        var id = StripeEvent.Parse(body).Id;

        await using (var scope = services.CreateAsyncScope())
        {
            var store = Store(scope);
            (await store.TryClaimAsync(id, "charge.refunded", body)).Status.Should().Be(WebhookClaimStatus.Claimed);
            await store.MarkStepCompletedAsync(id, "event:First");
            await store.MarkStepCompletedAsync(id, "event:Second");
            await store.MarkFailedAsync(id, "InvalidOperationException: the third one failed");
        }

        await using (var scope = services.CreateAsyncScope())
        {
            var claim = await Store(scope).TryClaimAsync(id, "charge.refunded", body);
            claim.Status.Should().Be(WebhookClaimStatus.Claimed);
            claim.Attempt.Should().Be(2);
            claim.CompletedSteps.Should().Equal("event:First", "event:Second");
            await Store(scope).MarkProcessedAsync(id);
            var info = await Queue(scope).FindAsync(id);
            info!.State.Should().Be(WebhookEventState.Processed);
            info.Type.Should().Be("charge.refunded");
            info.Created.Should().Be(StripeEvent.Parse(body).Created);
            info.LastError.Should().Be("InvalidOperationException: the third one failed");
        }
    }

    [SkippableTheory]
    [InlineData(DatabaseKind.Sqlite)]
    [InlineData(DatabaseKind.PostgreSql)]
    public async Task ConcurrentWorkers_ClaimDifferentEvents_InTheOrderTheyAreDue(DatabaseKind kind)
    {
        await using var database = await TestDatabase.CreateAsync(kind);
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var services = StoreServices.Build(database, clock);
        var ids = new List<string>();
        await using (var scope = services.CreateAsyncScope())
        {
            for (var i = 0; i < 12; i++)
            {
                var stripeEvent = StripeEvent.Parse(DurableApp.Body(TestEvents.Event("charge.refunded", StripeFixtures.Get("charge"))));
                (await Queue(scope).EnqueueAsync(stripeEvent)).Should().BeTrue();
                (await Queue(scope).EnqueueAsync(stripeEvent)).Should().BeFalse("a second delivery is a duplicate");
                ids.Add(stripeEvent.Id);
                clock.Advance(TimeSpan.FromMilliseconds(10));
            }
        }

        var claimed = await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
        {
            await using var scope = services.CreateAsyncScope();
            return (await Queue(scope).ClaimNextAsync())?.Id;
        }));

        claimed.Where(id => id is not null).Should().BeEquivalentTo(ids, "each due event went to exactly one worker");
        claimed.Count(id => id is null).Should().Be(4);
        await using (var scope = services.CreateAsyncScope())
        {
            (await Queue(scope).ClaimNextAsync()).Should().BeNull("every event is leased");
        }
    }

    [SkippableTheory]
    [InlineData(DatabaseKind.Sqlite)]
    [InlineData(DatabaseKind.PostgreSql)]
    public async Task ScheduledRetry_IsNotDueBeforeItsTime(DatabaseKind kind)
    {
        await using var database = await TestDatabase.CreateAsync(kind);
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var services = StoreServices.Build(database, clock);
        var stripeEvent = StripeEvent.Parse(DurableApp.Body(TestEvents.Event("charge.refunded", StripeFixtures.Get("charge"))));
        await using (var scope = services.CreateAsyncScope())
        {
            await Queue(scope).EnqueueAsync(stripeEvent);
            var claimed = await Queue(scope).ClaimNextAsync();
            claimed!.Claim.Attempt.Should().Be(1);
            await Queue(scope).ScheduleRetryAsync(stripeEvent.Id, "boom", clock.GetUtcNow() + TimeSpan.FromSeconds(30));
            (await Queue(scope).FindAsync(stripeEvent.Id))!.State.Should().Be(WebhookEventState.Failed);
        }

        await using (var scope = services.CreateAsyncScope())
        {
            clock.Advance(TimeSpan.FromSeconds(29));
            (await Queue(scope).ClaimNextAsync()).Should().BeNull();
            clock.Advance(TimeSpan.FromSeconds(2));
            var retried = await Queue(scope).ClaimNextAsync();
            retried!.Claim.Attempt.Should().Be(2);
            retried.Payload.ToArray().Should().Equal(stripeEvent.RawJson.ToArray(), "the worker gets the body as received");
        }
    }

    [SkippableTheory]
    [InlineData(DatabaseKind.Sqlite)]
    [InlineData(DatabaseKind.PostgreSql)]
    public async Task InlineAndPurchaseClaims_AreNeverTakenByTheQueueWorker(DatabaseKind kind)
    {
        await using var database = await TestDatabase.CreateAsync(kind);
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var services = StoreServices.Build(database, clock, o => o.WebhookClaimLease = Lease);
        await using var scope = services.CreateAsyncScope();
        var body = DurableApp.Body(TestEvents.Event("charge.refunded", StripeFixtures.Get("charge")));

        await Store(scope).TryClaimAsync(StripeEvent.Parse(body).Id, "charge.refunded", body);
        await Store(scope).TryClaimAsync("checkout.session:cs_test_inline", "checkout.fulfillment", ReadOnlyMemory<byte>.Empty);
        await Store(scope).MarkFailedAsync("checkout.session:cs_test_inline", "boom");
        clock.Advance(Lease * 2);

        (await Queue(scope).ClaimNextAsync()).Should().BeNull("inline failures wait for Stripe's redelivery");
    }

    [SkippableTheory]
    [InlineData(DatabaseKind.Sqlite)]
    [InlineData(DatabaseKind.PostgreSql)]
    public async Task MarksFromAStoreThatDidNotClaim_ApplyToAClaimInProgress(DatabaseKind kind)
    {
        await using var database = await TestDatabase.CreateAsync(kind);
        await using var services = StoreServices.Build(database);
        await using (var claimer = services.CreateAsyncScope())
        {
            (await Store(claimer).TryClaimAsync("checkout.session:cs_test_other", "checkout.fulfillment", ReadOnlyMemory<byte>.Empty)).Status.Should().Be(WebhookClaimStatus.Claimed);
        }

        await using (var other = services.CreateAsyncScope())
        {
            await Store(other).MarkStepCompletedAsync("checkout.session:cs_test_other", "fulfillment");
            await Store(other).MarkProcessedAsync("checkout.session:cs_test_other");
            await Store(other).MarkFailedAsync("checkout.session:cs_test_other", "too late: it is processed");
            var info = await Queue(other).FindAsync("checkout.session:cs_test_other");
            info!.State.Should().Be(WebhookEventState.Processed);
            info.LastError.Should().BeNull();
        }
    }

    [SkippableFact]
    public async Task TablesInAnotherSchema_WorkTheSame()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseKind.PostgreSql);
        var services = new ServiceCollection();
        services.AddDbContext<SchemaContext>(database.Configure);
        services.AddStripePayments(TestServices.DefaultOptions).UseEntityFrameworkStores<SchemaContext>();
        await using var provider = services.BuildServiceProvider();
        await using (var scope = provider.CreateAsyncScope())
        {
            var context = scope.ServiceProvider.GetRequiredService<SchemaContext>();
            await context.Database.ExecuteSqlRawAsync("CREATE SCHEMA IF NOT EXISTS payments");
            var script = context.Database.GenerateCreateScript();
            script.Should().Contain("payments.wavhaven_webhook_events");
            await context.Database.ExecuteSqlRawAsync(script);
        }

        await using (var scope = provider.CreateAsyncScope())
        {
            var stripeEvent = StripeEvent.Parse(DurableApp.Body(TestEvents.Event("charge.refunded", StripeFixtures.Get("charge"))));
            (await Queue(scope).EnqueueAsync(stripeEvent)).Should().BeTrue();
            (await Queue(scope).ClaimNextAsync())!.Id.Should().Be(stripeEvent.Id);
            await Store(scope).MarkProcessedAsync(stripeEvent.Id);
            (await Queue(scope).FindAsync(stripeEvent.Id))!.State.Should().Be(WebhookEventState.Processed);
        }
    }

    /// <summary>
    /// Listing reads what <see cref="WebhookEventInfo"/> holds, not the events' payloads: the health check lists up to 1,000
    /// dead events on every probe, and each payload is a few KB of a buyer's data.
    /// </summary>
    [SkippableTheory]
    [InlineData(DatabaseKind.Sqlite)]
    [InlineData(DatabaseKind.PostgreSql)]
    public async Task ListAsync_DoesNotReadThePayloads(DatabaseKind kind)
    {
        await using var database = await TestDatabase.CreateAsync(kind);
        var sink = new LogSink();
        await using var services = StoreServices.Build(database, configure: s => s.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(sink));
        await using (var scope = services.CreateAsyncScope())
        {
            (await Store(scope).TryClaimAsync("evt_dead", "charge.refunded", Encoding.UTF8.GetBytes("{\"buyer\":\"jane@example.com\"}"))).Status.Should().Be(WebhookClaimStatus.Claimed);
            await Queue(scope).MarkDeadAsync("evt_dead", "down for good");
        }

        sink.Lines.Clear();
        await using (var scope = services.CreateAsyncScope())
        {
            var dead = await Queue(scope).ListAsync(WebhookEventState.Dead, 1000);

            dead.Should().ContainSingle().Which.Should().Match<WebhookEventInfo>(e => e.Id == "evt_dead" && e.Type == "charge.refunded" && e.LastError == "down for good");
        }

        var selects = sink.Lines.Where(l => l.EventName == "Microsoft.EntityFrameworkCore.Database.Command.CommandExecuted" || l.EventName == "CommandExecuted")
            .Select(l => l.Message).Where(m => m.Contains("SELECT", StringComparison.OrdinalIgnoreCase)).ToList();
        selects.Should().NotBeEmpty();
        selects.Should().NotContain(sql => sql.Contains("payload", StringComparison.OrdinalIgnoreCase));
    }

    [SkippableTheory]
    [InlineData(DatabaseKind.Sqlite)]
    [InlineData(DatabaseKind.PostgreSql)]
    public async Task GetBacklogAsync_RaisesNoEntityFrameworkWarning(DatabaseKind kind)
    {
        // The health check reads the backlog on every probe. EF Core warns (CoreEventId.FirstWithoutOrderByAndFilterWarning,
        // "The query uses the 'First'/'FirstOrDefault' operator without 'OrderBy' and filter operators") about a
        // First without OrderBy: a line in the app's console that the app did not write (the sample prints it on its
        // first /health), and an exception in an app that makes EF's warnings errors. Made to throw here so that the
        // query is compiled afresh whatever ran before in this process.
        await using var database = await TestDatabase.CreateAsync(kind);
        await using var services = StoreServices.Build(database, configure: s => s.ConfigureDbContext<TestDbContext>(
            o => o.ConfigureWarnings(w => w.Throw(Microsoft.EntityFrameworkCore.Diagnostics.CoreEventId.FirstWithoutOrderByAndFilterWarning))));
        await using (var scope = services.CreateAsyncScope())
        {
            var refund = TestEvents.Event("charge.refunded", Payments.Tests.Support.StripeFixtures.Get("charge"));
            (await Queue(scope).EnqueueAsync(StripeEvent.Parse(Encoding.UTF8.GetBytes(refund.ToJsonString())))).Should().BeTrue();
        }

        await using (var scope = services.CreateAsyncScope())
        {
            var read = async () => await Queue(scope).GetBacklogAsync(DateTimeOffset.UtcNow.AddDays(1));

            (await read.Should().NotThrowAsync()).Which.Queued.Should().Be(1);
        }
    }

    [SkippableTheory]
    [InlineData(DatabaseKind.Sqlite)]
    [InlineData(DatabaseKind.PostgreSql)]
    public async Task RenewedClaim_OutlastsItsFirstLease_ForAnotherWorker(DatabaseKind kind)
    {
        await using var database = await TestDatabase.CreateAsync(kind);
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var services = StoreServices.Build(database, clock, o => o.WebhookClaimLease = Lease);
        var stripeEvent = StripeEvent.Parse(DurableApp.Body(TestEvents.Event("charge.refunded", StripeFixtures.Get("charge"))));
        await using var holder = services.CreateAsyncScope();
        await using var other = services.CreateAsyncScope();
        (await Queue(holder).EnqueueAsync(stripeEvent)).Should().BeTrue();
        (await Queue(holder).ClaimNextAsync())!.Id.Should().Be(stripeEvent.Id);

        clock.Advance(Lease * 0.8);
        (await Renewable(holder).RenewClaimAsync(stripeEvent.Id)).Should().BeTrue();
        clock.Advance(Lease * 0.8); // past the first lease, within the renewed one

        (await Queue(other).ClaimNextAsync()).Should().BeNull("the holder renewed its claim");
        clock.Advance(Lease * 0.3);
        (await Queue(other).ClaimNextAsync())!.Id.Should().Be(stripeEvent.Id, "a renewal extends by one lease, not for good");
    }

    [SkippableTheory]
    [InlineData(DatabaseKind.Sqlite)]
    [InlineData(DatabaseKind.PostgreSql)]
    public async Task RenewalOfAClaimTakenOver_AnswersLost_AndLeavesTheNewHoldersLeaseAlone(DatabaseKind kind)
    {
        await using var database = await TestDatabase.CreateAsync(kind);
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var services = StoreServices.Build(database, clock, o => o.WebhookClaimLease = Lease);
        await using var stale = services.CreateAsyncScope();
        await using var current = services.CreateAsyncScope();
        var purchase = "checkout.session:cs_test_renewal";
        (await Store(stale).TryClaimAsync(purchase, "checkout.fulfillment", ReadOnlyMemory<byte>.Empty)).Status.Should().Be(WebhookClaimStatus.Claimed);
        clock.Advance(Lease + TimeSpan.FromSeconds(1));
        (await Store(current).TryClaimAsync(purchase, "checkout.fulfillment", ReadOnlyMemory<byte>.Empty)).Status.Should().Be(WebhookClaimStatus.Claimed);
        var before = await LeaseExpiry(database, purchase);
        clock.Advance(TimeSpan.FromMinutes(1));

        (await Renewable(stale).RenewClaimAsync(purchase)).Should().BeFalse("another holder took the claim");
        (await LeaseExpiry(database, purchase)).Should().Be(before, "the stale holder's renewal changed nothing");
        (await Renewable(current).RenewClaimAsync(purchase)).Should().BeTrue();
        (await LeaseExpiry(database, purchase)).Should().BeAfter(before!.Value);

        await using (var db = database.CreateContext())
        {
            (await db.Database.ExecuteSqlAsync($"DELETE FROM wavhaven_webhook_events WHERE id = {purchase}")).Should().Be(1);
        }

        (await Renewable(current).RenewClaimAsync(purchase)).Should().BeFalse("the claim's record is gone");
    }

    [SkippableTheory]
    [InlineData(DatabaseKind.Sqlite)]
    [InlineData(DatabaseKind.PostgreSql)]
    public async Task ClaimsAreRenewedEveryThirdOfTheLease_OnPostgreSqlOnly(DatabaseKind kind)
    {
        // On SQLite the handlers' transaction holds the one write lock from its start: no other connection can take the
        // claim while they run, and a renewal on another connection would only wait for that lock.
        await using var database = await TestDatabase.CreateAsync(kind);
        await using var services = StoreServices.Build(database, options: o => o.WebhookClaimLease = Lease);
        await using var scope = services.CreateAsyncScope();

        Renewable(scope).ClaimRenewalPeriod.Should().Be(kind == DatabaseKind.PostgreSql ? Lease / 3 : Timeout.InfiniteTimeSpan);
    }

    private static IRenewableWebhookEventStore Renewable(AsyncServiceScope scope) => (IRenewableWebhookEventStore)Store(scope);

    private static async Task<DateTime?> LeaseExpiry(TestDatabase database, string id)
    {
        await using var db = database.CreateContext();
        return await db.Database.SqlQuery<DateTime?>($"SELECT lease_expires_at AS \"Value\" FROM wavhaven_webhook_events WHERE id = {id}").SingleAsync();
    }

    private static IWebhookEventStore Store(AsyncServiceScope scope) => scope.ServiceProvider.GetRequiredService<IWebhookEventStore>();

    private static IWebhookEventQueue Queue(AsyncServiceScope scope) => (IWebhookEventQueue)Store(scope);
}

public sealed class SchemaContext(DbContextOptions<SchemaContext> options) : DbContext(options)
{
    protected override void OnModelCreating(ModelBuilder modelBuilder) => modelBuilder.AddStripePayments(schema: "payments");
}
