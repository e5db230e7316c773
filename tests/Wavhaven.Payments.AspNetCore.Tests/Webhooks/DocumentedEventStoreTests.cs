using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Wavhaven.Payments.AspNetCore.Tests.Support;
using Wavhaven.Payments.Checkout;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.AspNetCore.Tests.Webhooks;

/// <summary>
/// An event store of the app's own, written from the library's public docs (<see cref="DocumentedEventStore"/>), in place
/// of the built-in ones, with real signed deliveries: what the library relies on beyond what those docs say.
/// </summary>
public class DocumentedEventStoreTests
{
    private static Task<WebhookTestApp> StartAsync<TStore>(DocumentedStoreDatabase database, Action<StripePaymentsOptions>? options = null)
        where TStore : class, IWebhookEventStore =>
        WebhookTestApp.StartAsync(
            o =>
            {
                o.WebhookClaimLease = database.Lease;
                options?.Invoke(o);
            },
            payments => payments.AddFulfillmentHandler<LicenseHandler>().UseEventStore<TStore>(),
            services: services => services.AddSingleton(database));

    private static async Task<CheckoutSyncStatus> SyncAsync(WebhookTestApp app, string sessionId)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return (await scope.ServiceProvider.GetRequiredService<ICheckoutService>().SyncCheckoutAsync(sessionId)).Status;
    }

    private static async Task<(HttpStatusCode Status, string Body)> DeliverAsync(WebhookTestApp app, System.Text.Json.Nodes.JsonObject stripeEvent)
    {
        using var response = await app.PostAsync(stripeEvent);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task TheStoreAsDocumented_HandlesDuplicatesRedeliveriesAndASync()
    {
        // The store is sound for what the docs spell out: a duplicate, a redelivery after a failed handler, a success page.
        var database = new DocumentedStoreDatabase(TimeSpan.FromMinutes(5));
        await using var app = await StartAsync<DocumentedTransactionalEventStore>(database);
        var session = TestEvents.CheckoutSession("cs_test_documented_ok");
        app.Stripe.OnJson(HttpMethod.Get, "/v1/checkout/sessions/cs_test_documented_ok", session.ToJsonString());
        var stripeEvent = TestEvents.Event("checkout.session.completed", session);
        var undoing = new DocumentedStoreDatabase(TimeSpan.FromMinutes(5));
        await using var careful = await StartAsync<DocumentedTransactionalEventStore>(undoing);
        careful.Recorder.FulfillmentFailuresLeft = 1;
        var other = TestEvents.CheckoutSession("cs_test_documented_ok2");
        careful.Stripe.OnJson(HttpMethod.Get, "/v1/checkout/sessions/cs_test_documented_ok2", other.ToJsonString());
        var otherEvent = TestEvents.Event("checkout.session.completed", other);

        (await DeliverAsync(app, stripeEvent)).Should().Be((HttpStatusCode.OK, "processed"));
        (await DeliverAsync(app, stripeEvent)).Should().Be((HttpStatusCode.OK, "duplicate"));
        (await SyncAsync(app, "cs_test_documented_ok")).Should().Be(CheckoutSyncStatus.Fulfilled);
        (await DeliverAsync(careful, otherEvent)).Status.Should().Be(HttpStatusCode.InternalServerError);
        (await DeliverAsync(careful, otherEvent)).Should().Be((HttpStatusCode.OK, "processed"));
        (await SyncAsync(careful, "cs_test_documented_ok2")).Should().Be(CheckoutSyncStatus.Fulfilled);

        app.Recorder.Fulfilled.Should().ContainSingle();
        careful.Recorder.Fulfilled.Should().ContainSingle();
        database.Find(stripeEvent["id"]!.ToString())!.State.Should().Be(WebhookEventState.Processed);
        undoing.Find(FulfillmentPurchaseId("cs_test_documented_ok2"))!.State.Should().Be(WebhookEventState.Processed);
    }

    [Fact]
    public async Task TransactionalStore_FulfilmentSlowerThanTheLease_IsNotRunAgainByTheSuccessPage()
    {
        // A transactional store that renews its claims, as IRenewableWebhookEventStore asks. The webhook claims its event
        // (renewed while the handler runs) and, inside its transaction, the purchase: that claim the library never renews,
        // relying on PostgreSQL's row lock to keep other claimers waiting, which the docs asked of no store before
        // ITransactionalWebhookEventStore's remarks said so. Otherwise, once the lease passes, the success page takes the
        // purchase over and fulfils it again.
        var database = new DocumentedStoreDatabase(TimeSpan.FromMilliseconds(600));
        await using var app = await StartAsync<DocumentedTransactionalEventStore>(database);
        app.Recorder.FulfillmentDelay = TimeSpan.FromSeconds(2);
        var session = TestEvents.CheckoutSession("cs_test_documented_slow");
        app.Stripe.OnJson(HttpMethod.Get, "/v1/checkout/sessions/cs_test_documented_slow", session.ToJsonString());
        var stripeEvent = TestEvents.Event("checkout.session.completed", session);

        var delivery = DeliverAsync(app, stripeEvent);
        await app.Recorder.FulfillmentWaiting.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await Task.Delay(TimeSpan.FromSeconds(1)); // the webhook's handler is still running, past the lease
        var sync = await SyncAsync(app, "cs_test_documented_slow");
        await delivery;

        sync.Should().BeOneOf(CheckoutSyncStatus.Fulfilled, CheckoutSyncStatus.Fulfilling);
        app.Recorder.Fulfilled.Count.Should().Be(1, "the README: \"a handler slower than the lease is not run again while it runs\"");
    }

    [Fact]
    public async Task TransactionalStore_FulfilmentFailedOnce_TheRedeliveryFulfils()
    {
        // The docs said only "The claim itself is committed before the transaction starts", so a store committed a claim when
        // it was made. But the purchase is claimed inside the event's transaction, and its failure mark is written there too,
        // so the rollback dropped the mark and kept the claim: the purchase stayed in progress until its lease ran out (the
        // redelivery answered 409, the success page "Fulfilling"). ITransactionalWebhookEventStore's remarks now say that
        // such a claim rolls back with its transaction.
        var database = new DocumentedStoreDatabase(TimeSpan.FromMinutes(5));
        await using var app = await StartAsync<DocumentedTransactionalEventStore>(database);
        app.Recorder.FulfillmentFailuresLeft = 1;
        var session = TestEvents.CheckoutSession("cs_test_documented_fails");
        var stripeEvent = TestEvents.Event("checkout.session.completed", session);

        (await DeliverAsync(app, stripeEvent)).Status.Should().Be(HttpStatusCode.InternalServerError);
        var redelivery = await DeliverAsync(app, stripeEvent);

        database.Find(FulfillmentPurchaseId("cs_test_documented_fails"))!.State.Should().NotBe(WebhookEventState.Processing, "the handler failed: the purchase is free for the next attempt");
        redelivery.Should().Be((HttpStatusCode.OK, "processed"));
        app.Recorder.Fulfilled.Should().ContainSingle();
    }

    [Fact]
    public async Task QueueStore_APurchaseClaimWhoseInstanceDied_IsFulfilledByTheNextDelivery()
    {
        // Instance A's success page claimed the purchase, then A was killed mid-handler: the claim stays in progress until its
        // lease runs out, after which, the docs say, the next claim takes it ("a crashed worker"). But instance B's queue
        // worker (which runs in inline mode too, for replays) claims "an event whose claim's lease ran out", as
        // ClaimNextAsync's docs say, and takes the purchase claim for an event: its empty payload cannot be parsed, so the
        // worker marks the purchase dead, and from then on every claim of it answers "already processed".
        var database = new DocumentedStoreDatabase(TimeSpan.FromMilliseconds(300));
        await using var app = await StartAsync<DocumentedEventStore>(database, o => o.WebhookQueue.PollInterval = TimeSpan.FromMilliseconds(50));
        var session = TestEvents.CheckoutSession("cs_test_documented_crash");
        app.Stripe.OnJson(HttpMethod.Get, "/v1/checkout/sessions/cs_test_documented_crash", session.ToJsonString());
        var instanceA = new DocumentedEventStore(database);
        var purchaseId = FulfillmentPurchaseId("cs_test_documented_crash");
        (await instanceA.TryClaimAsync(purchaseId, "checkout.fulfillment", ReadOnlyMemory<byte>.Empty)).Status.Should().Be(WebhookClaimStatus.Claimed);

        await Task.Delay(TimeSpan.FromSeconds(1)); // A is gone; its claim's lease runs out
        var delivery = await DeliverAsync(app, TestEvents.Event("checkout.session.completed", session));
        var sync = await SyncAsync(app, "cs_test_documented_crash");

        database.Find(purchaseId)!.State.Should().NotBe(WebhookEventState.Dead, "a purchase is no event of the queue: {0}", database.Find(purchaseId)!.LastError);
        delivery.Should().Be((HttpStatusCode.OK, "processed"));
        sync.Should().Be(CheckoutSyncStatus.Fulfilled);
        app.Recorder.Fulfilled.Count.Should().Be(1, "the purchase was paid and its handler never finished");
    }

    private static string FulfillmentPurchaseId(string sessionId) => "checkout.session:" + sessionId;
}
