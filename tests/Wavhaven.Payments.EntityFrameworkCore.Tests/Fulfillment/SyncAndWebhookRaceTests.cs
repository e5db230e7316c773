using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Wavhaven.Payments.AspNetCore.Tests.Support;
using Wavhaven.Payments.Checkout;
using Wavhaven.Payments.EntityFrameworkCore.Tests.Support;
using Wavhaven.Payments.EntityFrameworkCore.Webhooks;
using Wavhaven.Payments.Fulfillment;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.EntityFrameworkCore.Tests.Fulfillment;

/// <summary>
/// The success page's sync and the webhook (completed, then async_payment_succeeded) racing for one purchase, on the EF
/// Core stores: the order is written once, whichever wins, in either processing mode.
/// </summary>
public class SyncAndWebhookRaceTests
{
    [SkippableTheory]
    [InlineData(DatabaseKind.Sqlite, WebhookProcessingMode.Inline)]
    [InlineData(DatabaseKind.Sqlite, WebhookProcessingMode.Queued)]
    [InlineData(DatabaseKind.PostgreSql, WebhookProcessingMode.Inline)]
    [InlineData(DatabaseKind.PostgreSql, WebhookProcessingMode.Queued)]
    public async Task SyncsAndAsyncPaymentSucceededDeliveries_Racing_WriteTheOrderOnce(DatabaseKind kind, WebhookProcessingMode mode)
    {
        await using var database = await TestDatabase.CreateAsync(kind);
        var session = TestEvents.CheckoutSession("cs_test_async_race");
        var app = await WebhookTestApp.StartAsync(
            options => { if (mode == WebhookProcessingMode.Queued) { DurableApp.QueuedForTests(options); } },
            payments: payments => payments.UseEntityFrameworkStores<TestDbContext>().AddFulfillmentHandler<OrderWriter>(),
            services: services =>
            {
                services.AddDbContext<TestDbContext>(database.Configure);
                services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(10));
            },
            logLevel: LogLevel.Warning);
        await using var _ = app;
        app.Client.Timeout = TimeSpan.FromSeconds(90);
        app.Stripe.OnJson(HttpMethod.Get, "/v1/checkout/sessions/cs_test_async_race", session.ToJsonString());
        var unpaid = TestEvents.Event("checkout.session.completed", TestEvents.CheckoutSession("cs_test_async_race", paymentStatus: "unpaid"));
        var succeeded = TestEvents.Event("checkout.session.async_payment_succeeded", session);

        async Task<CheckoutSyncStatus> SyncAsync()
        {
            await using var scope = app.Services.CreateAsyncScope();
            return (await scope.ServiceProvider.GetRequiredService<ICheckoutService>().SyncCheckoutAsync("cs_test_async_race")).Status;
        }

        async Task<HttpStatusCode> DeliverAsync(System.Text.Json.Nodes.JsonObject stripeEvent)
        {
            using var response = await app.PostAsync(stripeEvent);
            return response.StatusCode;
        }

        var syncs = Enumerable.Range(0, 4).Select(_ => SyncAsync()).ToList();
        var deliveries = Enumerable.Range(0, 4).Select(i => DeliverAsync(i % 2 == 0 ? succeeded : unpaid)).ToList();
        await Task.WhenAll(syncs.Cast<Task>().Concat(deliveries));

        deliveries.Select(t => t.Result).Should().OnlyContain(status => status == HttpStatusCode.OK || status == HttpStatusCode.Conflict);
        syncs.Select(t => t.Result).Should().OnlyContain(status => status == CheckoutSyncStatus.Fulfilled || status == CheckoutSyncStatus.Fulfilling);

        // Redeliveries until Stripe (here: the test) hears 200 for each, as Stripe would retry a 409.
        foreach (var stripeEvent in new[] { succeeded, unpaid })
        {
            await Probe.WaitForAsync(() => DeliverAsync(stripeEvent), status => status == HttpStatusCode.OK, "the redelivery is accepted");
        }

        await Probe.WaitForAsync(
            async () =>
            {
                await using var db = database.CreateContext();
                return await db.Set<WebhookEventRecord>().CountAsync(e => e.State != "processed");
            },
            count => count == 0,
            "every event and the purchase are processed");
        (await SyncAsync()).Should().Be(CheckoutSyncStatus.Fulfilled);
        await using var after = database.CreateContext();
        (await after.Orders.CountAsync(o => o.SessionId == "cs_test_async_race")).Should().Be(1);
    }

    private sealed class OrderWriter(TestDbContext db) : IFulfillmentHandler
    {
        public string Type => "license";

        public async Task FulfillAsync(FulfillmentContext context, CancellationToken cancellationToken)
        {
            db.Orders.Add(new Order { SessionId = context.SessionId, EventId = context.Event?.Id ?? "sync" });
            await db.SaveChangesAsync(cancellationToken);
            await Task.Delay(200, cancellationToken);
        }
    }
}
