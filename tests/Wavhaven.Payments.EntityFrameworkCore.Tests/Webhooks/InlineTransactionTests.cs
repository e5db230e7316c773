using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Wavhaven.Payments.AspNetCore.Tests.Support;
using Wavhaven.Payments.EntityFrameworkCore.Tests.Support;
using Wavhaven.Payments.EntityFrameworkCore.Webhooks;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.EntityFrameworkCore.Tests.Webhooks;

/// <summary>
/// Inline processing with handlers that write through the app's DbContext, the one the store uses: their
/// writes and the event's "processed" mark commit in one transaction, or roll back together.
/// </summary>
public class InlineTransactionTests
{
    [SkippableTheory]
    [InlineData(DatabaseKind.Sqlite)]
    [InlineData(DatabaseKind.PostgreSql)]
    public async Task HandlerFailure_RollsBackTheWritesOfEveryStep_AndTheRedeliveryCommitsThemOnce(DatabaseKind kind)
    {
        await using var database = await TestDatabase.CreateAsync(kind);
        var probe = new Probe { WriteOrders = true };
        await using var app = await DurableApp.StartAsync(database, probe);
        var stripeEvent = TestEvents.Event("checkout.session.completed", TestEvents.CheckoutSession("cs_test_rollback"));
        var eventId = stripeEvent["id"]!.GetValue<string>();
        probe.FailuresLeft[eventId] = 1; // the fulfillment writes its order, then the event handler throws

        using var failed = await app.PostAsync(stripeEvent);

        failed.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        probe.Fulfillments["cs_test_rollback"].Should().Be(1, "the fulfillment step ran and saved its order");
        await using (var db = database.CreateContext())
        {
            (await db.Orders.CountAsync()).Should().Be(0, "the order rolled back with the failed attempt");
            var row = await db.Set<WebhookEventRecord>().SingleAsync(e => e.Id == eventId);
            row.State.Should().Be("failed");
            row.CompletedSteps.Should().BeNull("the fulfillment step's completion rolled back with its order, so it runs again");
            row.LastError.Should().Contain("The audit log is down");
            (await db.Set<WebhookEventRecord>().AnyAsync(e => e.Id == "checkout.session:cs_test_rollback")).Should().BeFalse("the purchase claim rolled back too");
        }

        using var redelivery = await app.PostAsync(stripeEvent);

        redelivery.StatusCode.Should().Be(HttpStatusCode.OK);
        (await redelivery.Content.ReadAsStringAsync()).Should().Be("processed");
        await using (var db = database.CreateContext())
        {
            (await db.Orders.Select(o => o.SessionId).ToListAsync()).Should().Equal("cs_test_rollback");
            var row = await db.Set<WebhookEventRecord>().SingleAsync(e => e.Id == eventId);
            row.State.Should().Be("processed");
            row.Attempts.Should().Be(2);
            (await db.Set<WebhookEventRecord>().SingleAsync(e => e.Id == "checkout.session:cs_test_rollback")).State.Should().Be("processed");
        }
    }

    /// <summary>
    /// A handler's own statement that fails outside a savepoint (raw SQL, Dapper on the same connection) aborts the
    /// transaction on PostgreSQL: the purchase's failure mark in it then fails with 25P02, which used to replace the
    /// handler's error in the event's last error and in the log.
    /// </summary>
    [SkippableTheory]
    [InlineData(DatabaseKind.Sqlite, "UNIQUE constraint failed")]
    [InlineData(DatabaseKind.PostgreSql, "23505")]
    public async Task HandlerWhoseOwnStatementFails_IsRecordedWithItsOwnError(DatabaseKind kind, string handlerError)
    {
        await using var database = await TestDatabase.CreateAsync(kind);
        var probe = new Probe
        {
            WriteOrders = true,
            AfterOrderSaved = (db, order) => db.Database.ExecuteSqlAsync($"INSERT INTO orders (\"Id\", \"SessionId\", \"EventId\") VALUES ({order.Id}, 'again', 'again')"),
        };
        await using var app = await DurableApp.StartAsync(database, probe);
        var stripeEvent = TestEvents.Event("checkout.session.completed", TestEvents.CheckoutSession("cs_test_duplicate_key"));
        var eventId = stripeEvent["id"]!.GetValue<string>();

        using var failed = await app.PostAsync(stripeEvent);

        failed.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        var info = await app.GetEventAsync(eventId);
        info!.State.Should().Be(WebhookEventState.Failed);
        info.LastError.Should().Contain(handlerError, "the operator needs the handler's own error to fix it").And.NotContain("25P02");
        await using var db = database.CreateContext();
        (await db.Orders.CountAsync()).Should().Be(0, "the order rolled back with the failed attempt");
    }

    [SkippableTheory]
    [InlineData(DatabaseKind.Sqlite)]
    [InlineData(DatabaseKind.PostgreSql)]
    public async Task Success_CommitsTheWritesAndTheProcessedMarkTogether(DatabaseKind kind)
    {
        await using var database = await TestDatabase.CreateAsync(kind);
        var probe = new Probe { WriteOrders = true };
        (int Orders, string State)? seenFromOutside = null;
        probe.DuringEventHandler = async stripeEvent =>
        {
            // Another connection, as another request or instance would look, while the last step runs.
            await using var db = database.CreateContext();
            seenFromOutside = (await db.Orders.CountAsync(), (await db.Set<WebhookEventRecord>().SingleAsync(e => e.Id == stripeEvent.Id)).State);
        };
        await using var app = await DurableApp.StartAsync(database, probe);
        var stripeEvent = TestEvents.Event("checkout.session.completed", TestEvents.CheckoutSession("cs_test_commit"));
        var eventId = stripeEvent["id"]!.GetValue<string>();

        using var response = await app.PostAsync(stripeEvent);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        seenFromOutside.Should().Be((0, "processing"), "the order saved by the first step is not committed before the event is marked processed");
        await using var after = database.CreateContext();
        (await after.Orders.Select(o => o.EventId).ToListAsync()).Should().Equal(eventId);
        (await after.Set<WebhookEventRecord>().SingleAsync(e => e.Id == eventId)).State.Should().Be("processed");
        probe.EventRuns[eventId].Should().Be(1);
    }

    [SkippableTheory]
    [InlineData(DatabaseKind.Sqlite)]
    [InlineData(DatabaseKind.PostgreSql)]
    public async Task ConcurrentDeliveries_OfOneEvent_RunItsHandlersOnce(DatabaseKind kind)
    {
        await using var database = await TestDatabase.CreateAsync(kind);
        var probe = new Probe { WriteOrders = true, EventDelay = TimeSpan.FromMilliseconds(300) };
        await using var app = await DurableApp.StartAsync(database, probe);
        var body = DurableApp.Body(TestEvents.Event("checkout.session.completed", TestEvents.CheckoutSession("cs_test_race")));

        var statuses = await Task.WhenAll(Enumerable.Range(0, 20).Select(async _ =>
        {
            using var response = await app.PostAsync(body);
            return response.StatusCode;
        }));

        statuses.Should().OnlyContain(status => status == HttpStatusCode.OK || status == HttpStatusCode.Conflict);
        statuses.Should().Contain(HttpStatusCode.OK);
        probe.EventRuns.Values.Should().Equal(1);
        probe.Fulfillments.Values.Should().Equal(1);
        await using var db = database.CreateContext();
        (await db.Orders.CountAsync()).Should().Be(1);
    }

    [SkippableTheory]
    [InlineData(DatabaseKind.Sqlite)]
    [InlineData(DatabaseKind.PostgreSql)]
    public async Task FailedInlineEvent_IsReplayed_ByTheWorker(DatabaseKind kind)
    {
        await using var database = await TestDatabase.CreateAsync(kind);
        var probe = new Probe();
        await using var app = await DurableApp.StartAsync(database, probe);
        var stripeEvent = TestEvents.Event("charge.refunded", Payments.Tests.Support.StripeFixtures.Get("charge"));
        var eventId = stripeEvent["id"]!.GetValue<string>();
        probe.AlwaysFail[eventId] = true;
        using (var failed = await app.PostAsync(stripeEvent))
        {
            failed.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        }

        (await app.GetEventAsync(eventId))!.State.Should().Be(WebhookEventState.Failed);
        probe.AlwaysFail.TryRemove(eventId, out _);
        await using (var scope = app.Services.CreateAsyncScope())
        {
            (await scope.ServiceProvider.GetRequiredService<IWebhookEventAdmin>().ReplayAsync(eventId)).Should().BeTrue();
        }

        var info = await Probe.WaitForAsync(() => app.GetEventAsync(eventId), e => e?.State == WebhookEventState.Processed, "the replayed event is processed");
        info!.Attempts.Should().Be(1);
        probe.EventRuns[eventId].Should().Be(1);
    }
}
