using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Wavhaven.Payments.AspNetCore.Tests.Support;
using Wavhaven.Payments.Checkout;
using Wavhaven.Payments.Fulfillment;
using Wavhaven.Payments.Subscriptions;
using Wavhaven.Payments.Tests.Support;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.AspNetCore.Tests.Webhooks;

/// <summary>Exactly-once dispatch to the right handlers, over real HTTP with real signatures.</summary>
public class WebhookDispatchTests
{
    [Fact]
    public async Task HundredConcurrentDeliveriesOfOneEvent_RunTheHandlerExactlyOnce()
    {
        await using var app = await WebhookTestApp.StartAsync();
        app.Recorder.FulfillmentDelay = TimeSpan.FromMilliseconds(200);
        var stripeEvent = TestEvents.Event("checkout.session.completed", TestEvents.CheckoutSession("cs_test_concurrent"));

        var responses = await Task.WhenAll(Enumerable.Range(0, 100).Select(async _ =>
        {
            using var response = await app.PostAsync(stripeEvent);
            return response.StatusCode;
        }));

        app.Recorder.Fulfilled.Should().ContainSingle();
        responses.Should().OnlyContain(status => status == HttpStatusCode.OK || status == HttpStatusCode.Conflict);
        responses.Should().Contain(HttpStatusCode.OK);

        using var later = await app.PostAsync(stripeEvent);
        later.StatusCode.Should().Be(HttpStatusCode.OK);
        (await later.Content.ReadAsStringAsync()).Should().Be("duplicate");
        app.Recorder.Fulfilled.Should().ContainSingle();
    }

    /// <summary>
    /// The default, in-memory store's claims lapsed after five minutes (InMemoryWebhookEventStoreOptions.ClaimLease) and
    /// were never renewed, so Stripe's redelivery of an event whose handler was still running after that claimed it and ran
    /// the handler a second time, beside the first. The claim now holds while the handler runs: the redelivery is told to
    /// come back later (409), and the handler runs once.
    /// </summary>
    [Fact]
    public async Task AHandlerStillRunningAfterSixMinutes_IsNotRunAgainByTheRedelivery_WithTheInMemoryStore()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var handler = new SlowHandlerState();
        await using var app = await WebhookTestApp.StartAsync(
            payments: payments => payments.AddEventHandler<SlowEventHandler>(),
            services: services => services.AddSingleton<TimeProvider>(clock).AddSingleton(handler));
        var body = Encoding.UTF8.GetBytes(TestEvents.Event("charge.refunded", StripeFixtures.Get("charge")).ToJsonString());

        var first = app.PostAsync(body, signedAt: clock.GetUtcNow());
        await handler.FirstRunStarted.Task.WaitAsync(TimeSpan.FromSeconds(30));
        clock.Advance(TimeSpan.FromMinutes(6));
        using var redelivery = await app.PostAsync(body, signedAt: clock.GetUtcNow());
        handler.FinishFirstRun.SetResult();
        using var firstResponse = await first.WaitAsync(TimeSpan.FromSeconds(30));

        redelivery.StatusCode.Should().Be(HttpStatusCode.Conflict, "the first delivery's handler still runs");
        handler.Runs.Should().Be(1);
        firstResponse.StatusCode.Should().Be(HttpStatusCode.OK);
        using var later = await app.PostAsync(body, signedAt: clock.GetUtcNow());
        (await later.Content.ReadAsStringAsync()).Should().Be("duplicate");
        handler.Runs.Should().Be(1);
    }

    public sealed class SlowHandlerState
    {
        public int Runs;

        public TaskCompletionSource FirstRunStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource FinishFirstRun { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>An event handler whose first run lasts until the test lets it end; later runs (which must not happen) end at once.</summary>
    public sealed class SlowEventHandler(SlowHandlerState state) : IStripeEventHandler
    {
        public async Task HandleAsync(StripeEvent stripeEvent, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref state.Runs) == 1)
            {
                state.FirstRunStarted.SetResult();
                await state.FinishFirstRun.Task.WaitAsync(cancellationToken);
            }
        }
    }

    [Fact]
    public async Task HandlerThatThrows_Answers500_AndTheRedeliveryIsHandledOnce()
    {
        await using var app = await WebhookTestApp.StartAsync();
        app.Recorder.FulfillmentFailuresLeft = 1;
        var stripeEvent = TestEvents.Event("checkout.session.completed", TestEvents.CheckoutSession("cs_test_retry"));

        using var first = await app.PostAsync(stripeEvent);
        using var redelivery = await app.PostAsync(stripeEvent);
        using var duplicate = await app.PostAsync(stripeEvent);

        first.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        (await first.Content.ReadAsStringAsync()).Should().Be("handler failed").And.NotContain("licence database");
        redelivery.StatusCode.Should().Be(HttpStatusCode.OK);
        (await redelivery.Content.ReadAsStringAsync()).Should().Be("processed");
        duplicate.StatusCode.Should().Be(HttpStatusCode.OK);
        (await duplicate.Content.ReadAsStringAsync()).Should().Be("duplicate");
        app.Recorder.Fulfilled.Should().ContainSingle();
        app.Logs.Lines.Should().Contain(line => line.Level == LogLevel.Error && line.EventName == "WebhookHandlerFailed" && line.Exception != null);
    }

    [Fact]
    public async Task GuestCompletion_ReachesTheFulfillmentHandlerAsAGuest()
    {
        await using var app = await WebhookTestApp.StartAsync();

        using var response = await app.PostAsync(TestEvents.Event("checkout.session.completed",
            TestEvents.CheckoutSession("cs_test_guest", userId: "order-77", guest: true, email: "jane@example.com", tenantId: "tenant-9")));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var context = app.Recorder.Fulfilled.Should().ContainSingle().Subject;
        context.FulfillmentType.Should().Be("license");
        context.SessionId.Should().Be("cs_test_guest");
        context.UserId.Should().Be("order-77");
        context.IsGuest.Should().BeTrue();
        context.Email.Should().Be("jane@example.com");
        context.TenantId.Should().Be("tenant-9");
        context.Metadata.Should().Contain("order_id", "1001");
        context.Event!.Type.Should().Be("checkout.session.completed");
    }

    [Fact]
    public async Task RegisteredCompletion_ReachesTheFulfillmentHandlerAsRegistered_AndFetchesLineItemsOnDemand()
    {
        await using var app = await WebhookTestApp.StartAsync();
        var item = StripeFixtures.Get("item");
        app.Stripe.OnJson(HttpMethod.Get, "/v1/checkout/sessions/cs_test_registered/line_items", new JsonObject
        {
            ["object"] = "list",
            ["data"] = new JsonArray(item),
            ["has_more"] = false,
            ["url"] = "/v1/checkout/sessions/cs_test_registered/line_items",
        }.ToJsonString());

        using var response = await app.PostAsync(TestEvents.Event("checkout.session.completed",
            TestEvents.CheckoutSession("cs_test_registered", userId: "user-42", guest: false, email: "sam@example.com", customer: "cus_42")));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var context = app.Recorder.Fulfilled.Should().ContainSingle().Subject;
        context.IsGuest.Should().BeFalse();
        context.UserId.Should().Be("user-42");
        context.CustomerId.Should().Be("cus_42");
        context.Email.Should().Be("sam@example.com");
        app.Stripe.Requests.Should().BeEmpty("line items are fetched only when a handler asks");

        var lines = await context.GetLineItemsAsync();
        await context.GetLineItemsAsync();

        lines.Should().ContainSingle().Which.Description.Should().Be("T-shirt");
        app.Stripe.Requests.Should().ContainSingle().Which.Query.Should().Be("limit=100");
    }

    [Fact]
    public async Task UnpaidCompletion_RunsNothing_UntilTheAsyncPaymentSucceeds()
    {
        await using var app = await WebhookTestApp.StartAsync();

        using var completed = await app.PostAsync(TestEvents.Event("checkout.session.completed", TestEvents.CheckoutSession("cs_test_async", paymentStatus: "unpaid")));

        completed.StatusCode.Should().Be(HttpStatusCode.OK);
        app.Recorder.Fulfilled.Should().BeEmpty();

        using var succeeded = await app.PostAsync(TestEvents.Event("checkout.session.async_payment_succeeded", TestEvents.CheckoutSession("cs_test_async", paymentStatus: "paid")));
        using var lateCompleted = await app.PostAsync(TestEvents.Event("checkout.session.completed", TestEvents.CheckoutSession("cs_test_async", paymentStatus: "paid")));

        succeeded.StatusCode.Should().Be(HttpStatusCode.OK);
        lateCompleted.StatusCode.Should().Be(HttpStatusCode.OK);
        app.Recorder.Fulfilled.Should().ContainSingle("a purchase is fulfilled once, whichever of its events comes");
    }

    [Fact]
    public async Task AsyncPaymentFailedAndExpired_ReachTheHandlersHooks()
    {
        await using var app = await WebhookTestApp.StartAsync();

        using var failed = await app.PostAsync(TestEvents.Event("checkout.session.async_payment_failed", TestEvents.CheckoutSession("cs_test_failed", paymentStatus: "unpaid")));
        using var expired = await app.PostAsync(TestEvents.Event("checkout.session.expired", TestEvents.CheckoutSession("cs_test_expired", paymentStatus: "unpaid")));

        failed.StatusCode.Should().Be(HttpStatusCode.OK);
        expired.StatusCode.Should().Be(HttpStatusCode.OK);
        app.Recorder.Hooks.Select(h => (h.Hook, h.Context.SessionId)).Should().Equal(("payment_failed", "cs_test_failed"), ("expired", "cs_test_expired"));
        app.Recorder.Fulfilled.Should().BeEmpty();
    }

    [Fact]
    public async Task UnknownEventTypeAndUnknownFulfillmentType_AreAnswered200_AndLogged()
    {
        await using var app = await WebhookTestApp.StartAsync();

        using var unknownType = await app.PostAsync(TestEvents.Event("plan.created", StripeFixtures.Get("plan")));
        using var unknownFulfillment = await app.PostAsync(TestEvents.Event("checkout.session.completed", TestEvents.CheckoutSession("cs_test_unknown", fulfillmentType: "tshirt")));

        unknownType.StatusCode.Should().Be(HttpStatusCode.OK);
        (await unknownType.Content.ReadAsStringAsync()).Should().Be("ignored");
        unknownFulfillment.StatusCode.Should().Be(HttpStatusCode.OK);
        app.Recorder.Fulfilled.Should().BeEmpty();
        app.Logs.Lines.Should().Contain(line => line.EventName == "NoFulfillmentHandler" && line.Message.Contains("tshirt", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SubscriptionEventsDeliveredOutOfOrder_LeaveTheNewestState()
    {
        await using var app = await WebhookTestApp.StartAsync();
        // Stripe now holds the newest state: switched to yearly and set to cancel at period end.
        app.Stripe.OnJson(HttpMethod.Get, "/v1/subscriptions/sub_ooo", TestEvents.Subscription("sub_ooo", "price_pro_year", cancelAtPeriodEnd: true, periodEnd: 1_950_000_000).ToJsonString());
        var created = TestEvents.Event("customer.subscription.created", TestEvents.Subscription("sub_ooo", "price_pro_month"));
        var updated = TestEvents.Event("customer.subscription.updated", TestEvents.Subscription("sub_ooo", "price_pro_year", cancelAtPeriodEnd: true, periodEnd: 1_950_000_000),
            previousAttributes: new JsonObject { ["cancel_at_period_end"] = false });

        // The newer event arrives first, the older one last.
        using var first = await app.PostAsync(updated);
        using var second = await app.PostAsync(created);

        first.StatusCode.Should().Be(HttpStatusCode.OK);
        second.StatusCode.Should().Be(HttpStatusCode.OK);
        var changes = app.Recorder.Changes.ToList();
        changes.Select(c => c.Reason).Should().Equal(SubscriptionChangeReason.Updated, SubscriptionChangeReason.Created);
        var applied = changes[^1];
        applied.Plan!.Id.Should().Be("pro");
        applied.Price!.Interval.Should().Be(Catalog.PriceInterval.Year, "the older event must not move the subscription back to monthly");
        applied.CancelAtPeriodEnd.Should().BeTrue();
        applied.CurrentPeriodEnd.Should().Be(DateTimeOffset.FromUnixTimeSeconds(1_950_000_000));
        applied.UserId.Should().Be("user-1");
        applied.IsActive.Should().BeTrue();
    }

    [Fact]
    public async Task InvoiceEvents_ReachSubscriptionHandlers_WithTheInvoiceAndTheUser()
    {
        await using var app = await WebhookTestApp.StartAsync();
        app.Stripe.OnJson(HttpMethod.Get, "/v1/subscriptions/sub_inv", TestEvents.Subscription("sub_inv", "price_pro_month", status: "past_due", userId: "user-5").ToJsonString());

        using var paid = await app.PostAsync(TestEvents.Event("invoice.paid", TestEvents.Invoice("in_1", "sub_inv", userId: "user-5")));
        using var failed = await app.PostAsync(TestEvents.Event("invoice.payment_failed", TestEvents.Invoice("in_2", "sub_inv", status: "open", userId: "user-5")));
        var oneOff = StripeFixtures.Get("invoice");
        oneOff["id"] = "in_one_off";
        oneOff["parent"] = null;
        using var notASubscription = await app.PostAsync(TestEvents.Event("invoice.paid", oneOff));

        paid.StatusCode.Should().Be(HttpStatusCode.OK);
        failed.StatusCode.Should().Be(HttpStatusCode.OK);
        notASubscription.StatusCode.Should().Be(HttpStatusCode.OK);
        (await notASubscription.Content.ReadAsStringAsync()).Should().Be("ignored");
        app.Recorder.Changes.Select(c => (c.Reason, c.Invoice!.Id, c.UserId, c.Status)).Should().Equal(
            (SubscriptionChangeReason.InvoicePaid, "in_1", "user-5", "past_due"),
            (SubscriptionChangeReason.InvoicePaymentFailed, "in_2", "user-5", "past_due"));
    }

    /// <summary>
    /// A webhook endpoint still on an API version before 2025-03-31 renders invoices with the subscription at the top
    /// level and no parent. Answered 200 "ignored", the renewal would never reach the handler, nor come again.
    /// </summary>
    [Fact]
    public async Task InvoiceEvent_AtAnApiVersionBeforeInvoiceParents_StillReachesSubscriptionHandlers()
    {
        await using var app = await WebhookTestApp.StartAsync();
        app.Stripe.OnJson(HttpMethod.Get, "/v1/subscriptions/sub_old", TestEvents.Subscription("sub_old", "price_pro_month", userId: "user-8").ToJsonString());
        var invoice = TestEvents.Invoice("in_old", "sub_old", userId: "user-8");
        invoice.Remove("parent");
        invoice["subscription"] = "sub_old";

        using var paid = await app.PostAsync(TestEvents.Event("invoice.paid", invoice, apiVersion: "2024-06-20"));

        paid.StatusCode.Should().Be(HttpStatusCode.OK);
        (await paid.Content.ReadAsStringAsync()).Should().Be("processed");
        app.Recorder.Changes.Should().ContainSingle().Which.Should().Match<SubscriptionChange>(c =>
            c.Reason == SubscriptionChangeReason.InvoicePaid && c.SubscriptionId == "sub_old" && c.UserId == "user-8" && c.Invoice!.Id == "in_old");
    }

    [Fact]
    public async Task SuccessPageSyncAndWebhookRacing_FulfilThePurchaseOnce()
    {
        await using var app = await WebhookTestApp.StartAsync();
        app.Recorder.FulfillmentDelay = TimeSpan.FromMilliseconds(300);
        var session = TestEvents.CheckoutSession("cs_test_race");
        session["status"] = "complete";
        app.Stripe.OnJson(HttpMethod.Get, "/v1/checkout/sessions/cs_test_race", session.ToJsonString());
        var stripeEvent = TestEvents.Event("checkout.session.completed", session);

        async Task<CheckoutSyncStatus> SyncAsync()
        {
            await using var scope = app.Services.CreateAsyncScope();
            var result = await scope.ServiceProvider.GetRequiredService<ICheckoutService>().SyncCheckoutAsync("cs_test_race");
            return result.Status;
        }

        async Task<HttpStatusCode> DeliverAsync()
        {
            using var response = await app.PostAsync(stripeEvent);
            return response.StatusCode;
        }

        var syncs = Enumerable.Range(0, 5).Select(_ => SyncAsync()).ToList();
        var deliveries = Enumerable.Range(0, 5).Select(_ => DeliverAsync()).ToList();
        await Task.WhenAll(syncs.Cast<Task>().Concat(deliveries));

        app.Recorder.Fulfilled.Should().ContainSingle();
        syncs.Select(t => t.Result).Should().OnlyContain(status => status == CheckoutSyncStatus.Fulfilled);
        deliveries.Select(t => t.Result).Should().OnlyContain(status => status == HttpStatusCode.OK || status == HttpStatusCode.Conflict);

        // Whatever the webhook answered, its redelivery finds the purchase done.
        using var redelivery = await app.PostAsync(stripeEvent);
        redelivery.StatusCode.Should().Be(HttpStatusCode.OK);
        (await SyncAsync()).Should().Be(CheckoutSyncStatus.Fulfilled);
        app.Recorder.Fulfilled.Should().ContainSingle();
    }

    [Fact]
    public async Task Sync_OfAnOpenOrUnpaidSession_RunsNothing()
    {
        await using var app = await WebhookTestApp.StartAsync();
        var open = TestEvents.CheckoutSession("cs_test_open", paymentStatus: "unpaid");
        open["status"] = "open";
        var pending = TestEvents.CheckoutSession("cs_test_pending", paymentStatus: "unpaid");
        app.Stripe.OnJson(HttpMethod.Get, "/v1/checkout/sessions/cs_test_open", open.ToJsonString());
        app.Stripe.OnJson(HttpMethod.Get, "/v1/checkout/sessions/cs_test_pending", pending.ToJsonString());
        app.Stripe.OnJson(HttpMethod.Get, "/v1/payment_intents/" + (string)pending["payment_intent"]!, """{"id":"pi_pending","object":"payment_intent","status":"processing"}""");
        await using var scope = app.Services.CreateAsyncScope();
        var sut = scope.ServiceProvider.GetRequiredService<ICheckoutService>();

        (await sut.SyncCheckoutAsync("cs_test_open")).Status.Should().Be(CheckoutSyncStatus.Open);
        (await sut.SyncCheckoutAsync("cs_test_pending")).Status.Should().Be(CheckoutSyncStatus.PaymentPending);
        app.Recorder.Fulfilled.Should().BeEmpty();
    }

    /// <summary>
    /// The start-up check of the registrations disposed its scope synchronously, which throws for a service that is only
    /// IAsyncDisposable: a valid handler stopped the host's start, though the webhook's own scopes are disposed async.
    /// </summary>
    [Fact]
    public async Task AFulfillmentHandlerThatIsOnlyAsyncDisposable_StartsAndFulfils()
    {
        await using var app = await WebhookTestApp.StartAsync(payments: payments => payments.AddFulfillmentHandler<AsyncDisposableLicenseHandler>());

        using var response = await app.PostAsync(TestEvents.Event("checkout.session.completed", TestEvents.CheckoutSession("cs_test_async_disposable")));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        app.Recorder.Fulfilled.Should().ContainSingle();
    }

    /// <summary>
    /// A step key names the handler's class. For a generic class, <see cref="Type.FullName"/> carries each argument's
    /// assembly, version included: a deploy that only bumped a version made a pending redelivery run again a handler that
    /// had succeeded. A plain class keeps its full name, so that steps recorded before stay valid.
    /// </summary>
    [Fact]
    public void StepName_OfAGenericHandler_NamesNoAssemblyVersion()
    {
        var generic = WebhookDispatcher.StepName(typeof(GenericAuditHandler<ILogger<WebhookDispatchTests>>));

        generic.Should().Be("Wavhaven.Payments.AspNetCore.Tests.Webhooks.WebhookDispatchTests+GenericAuditHandler`1[Microsoft.Extensions.Logging.ILogger`1[Wavhaven.Payments.AspNetCore.Tests.Webhooks.WebhookDispatchTests]]");
        typeof(GenericAuditHandler<ILogger<WebhookDispatchTests>>).FullName.Should().Contain("Version=", "the name the key was built from before");
        WebhookDispatcher.StepName(typeof(LicenseHandler)).Should().Be(typeof(LicenseHandler).FullName);
    }

    [Fact]
    public async Task APurchase_CreatesOnlyTheHandlerOfItsType_OnceTheTypesAreKnown()
    {
        await using var app = await WebhookTestApp.StartAsync(payments: payments => payments
            .AddFulfillmentHandler<LicenseHandler>()
            .AddFulfillmentHandler<GiftCardHandler>());
        var createdAtStart = app.Recorder.GiftCardHandlersCreated; // the start-up check of the registrations creates each once

        for (var i = 0; i < 3; i++)
        {
            using var license = await app.PostAsync(TestEvents.Event("checkout.session.completed", TestEvents.CheckoutSession($"cs_test_license_{i}")));
            license.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        using var giftCard = await app.PostAsync(TestEvents.Event("checkout.session.completed", TestEvents.CheckoutSession("cs_test_gift", fulfillmentType: "gift-card")));

        app.Recorder.Fulfilled.Select(c => c.SessionId).Should().Equal("cs_test_license_0", "cs_test_license_1", "cs_test_license_2");
        app.Recorder.Hooks.Should().ContainSingle().Which.Context.SessionId.Should().Be("cs_test_gift");
        (app.Recorder.GiftCardHandlersCreated - createdAtStart).Should().Be(2, "the first license purchase walked every handler, the later ones created only theirs, and the gift card created its own");
    }

    [Fact]
    public async Task TheAppsOwnSingletonOfAHandlersClass_IsNotWhatPurchasesRun()
    {
        await using var app = await WebhookTestApp.StartAsync(
            payments: payments => payments.AddFulfillmentHandler<InstanceRecordingHandler>(),
            services: services => services.AddSingleton<InstanceRecordingHandler>());

        for (var i = 0; i < 3; i++)
        {
            using var response = await app.PostAsync(TestEvents.Event("checkout.session.completed", TestEvents.CheckoutSession($"cs_test_instances_{i}", fulfillmentType: "instances")));
            response.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        var appsOwn = app.Services.GetRequiredService<InstanceRecordingHandler>();
        app.Recorder.HandlerInstances.Should().HaveCount(3).And.OnlyHaveUniqueItems("each purchase runs in its own scope").And.NotContain(appsOwn);
    }

    [Fact]
    public async Task AHandlerWithoutAType_InAnAppThatSkipsTheStartUpCheck_DoesNotStopTheOthers()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(new Recorder());
        services.AddStripePayments(o =>
        {
            TestServices.DefaultOptions(o);
            o.WebhookSecrets.Add(WebhookTestApp.Secret);
        }).AddFulfillmentHandler<UntypedHandler>().AddFulfillmentHandler<LicenseHandler>();
        await using var provider = services.BuildServiceProvider(); // no host: nothing validates the handlers on start
        var processor = provider.GetRequiredService<IWebhookProcessor>();
        var body = System.Text.Encoding.UTF8.GetBytes(TestEvents.Event("checkout.session.completed", TestEvents.CheckoutSession("cs_test_beside_untyped")).ToJsonString());

        var result = await processor.ProcessAsync(body, StripeWebhookSignature.CreateHeader(body, WebhookTestApp.Secret, DateTimeOffset.UtcNow));

        result.Outcome.Should().Be(WebhookOutcome.Processed);
        provider.GetRequiredService<Recorder>().Fulfilled.Should().ContainSingle().Which.SessionId.Should().Be("cs_test_beside_untyped");
    }

    [Fact]
    public async Task EscapeHatchHandler_SeesEveryEvent_AndAfterItsFailureOnlyItRunsAgain()
    {
        await using var app = await WebhookTestApp.StartAsync(payments: payments => payments
            .AddFulfillmentHandler<LicenseHandler>()
            .AddEventHandler<EventRecorder>());
        app.Recorder.EventHandlerFailuresLeft = 1;
        var stripeEvent = TestEvents.Event("checkout.session.completed", TestEvents.CheckoutSession("cs_test_steps"));

        using var first = await app.PostAsync(stripeEvent);
        using var second = await app.PostAsync(stripeEvent);
        using var refund = await app.PostAsync(TestEvents.Event("charge.refunded", StripeFixtures.Get("charge")));

        first.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        second.StatusCode.Should().Be(HttpStatusCode.OK);
        refund.StatusCode.Should().Be(HttpStatusCode.OK);
        app.Recorder.Fulfilled.Should().ContainSingle("the fulfillment succeeded on the first delivery and must not run again");
        app.Recorder.Events.Select(e => e.Type).Should().Equal("checkout.session.completed", "charge.refunded");
        app.Recorder.Events.Last().ToCharge().Id.Should().Be("ch_1PgafuB7WZ01zgkWXYmPNZs8");
    }

    [Fact]
    public async Task TwoRegistrationsOfOneHandlerClass_AreTwoSteps_SoAfterOneFailsItRunsAgain()
    {
        // One forwarder class, registered twice with different targets: the one that failed must run on the redelivery.
        var delivered = new List<string>();
        await using var app = await WebhookTestApp.StartAsync(services: services =>
        {
            services.AddSingleton<IStripeEventHandler>(new Forwarder("audit-log", delivered, failures: 0));
            services.AddSingleton<IStripeEventHandler>(new Forwarder("crm", delivered, failures: 1));
        });
        var refund = TestEvents.Event("charge.refunded", StripeFixtures.Get("charge"));

        using var first = await app.PostAsync(refund);
        using var second = await app.PostAsync(refund);

        first.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        second.StatusCode.Should().Be(HttpStatusCode.OK);
        delivered.Should().Equal("audit-log", "crm");
    }

    private sealed class Forwarder(string target, List<string> delivered, int failures) : IStripeEventHandler
    {
        private int _failures = failures;

        public Task HandleAsync(StripeEvent stripeEvent, CancellationToken cancellationToken)
        {
            if (_failures-- > 0)
            {
                throw new HttpRequestException(target + " is down");
            }

            lock (delivered)
            {
                delivered.Add(target);
            }

            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task ConnectEvent_CarriesItsAccount_ToTheContextAndToStripeCalls()
    {
        await using var app = await WebhookTestApp.StartAsync();
        app.Stripe.OnJson(HttpMethod.Get, "/v1/checkout/sessions/cs_test_connect/line_items", """{"object":"list","data":[],"has_more":false}""");

        using var response = await app.PostAsync(TestEvents.Event("checkout.session.completed", TestEvents.CheckoutSession("cs_test_connect"), account: "acct_123"));
        var context = app.Recorder.Fulfilled.Should().ContainSingle().Subject;
        await context.GetLineItemsAsync();

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        context.Account.Should().Be("acct_123");
        context.Event!.Account.Should().Be("acct_123");
        app.Stripe.Requests.Should().ContainSingle().Which.Header("Stripe-Account").Should().Be("acct_123");
    }

    [Fact]
    public async Task EventAtAnotherApiVersion_IsHandled_AndLoggedOncePerVersion()
    {
        await using var app = await WebhookTestApp.StartAsync();

        using var first = await app.PostAsync(TestEvents.Event("checkout.session.completed", TestEvents.CheckoutSession("cs_test_v1"), apiVersion: "2025-03-31.basil"));
        using var second = await app.PostAsync(TestEvents.Event("checkout.session.completed", TestEvents.CheckoutSession("cs_test_v2"), apiVersion: "2025-03-31.basil"));

        first.StatusCode.Should().Be(HttpStatusCode.OK);
        second.StatusCode.Should().Be(HttpStatusCode.OK);
        app.Recorder.Fulfilled.Should().HaveCount(2);
        app.Logs.Lines.Where(line => line.EventName == "WebhookApiVersionMismatch").Should().ContainSingle()
            .Which.Message.Should().Contain("2025-03-31.basil").And.Contain(Payments.Stripe.StripeApiVersion.Current);
    }

    [Fact]
    public async Task CustomPattern_IsWhereTheEndpointListens()
    {
        await using var app = await WebhookTestApp.StartAsync(pattern: "/hooks/stripe");
        var body = System.Text.Encoding.UTF8.GetBytes(TestEvents.Event("checkout.session.completed", TestEvents.CheckoutSession("cs_test_pattern")).ToJsonString());
        var header = Payments.Webhooks.StripeWebhookSignature.CreateHeader(body, WebhookTestApp.Secret, DateTimeOffset.UtcNow);

        using var atPattern = await app.PostRawAsync(body, header, "/hooks/stripe");
        using var atDefault = await app.PostRawAsync(body, header, "/api/webhooks/stripe");

        atPattern.StatusCode.Should().Be(HttpStatusCode.OK);
        atDefault.StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    /// <summary>A handler that answers no type, which the start-up check refuses when a host runs it.</summary>
    private sealed class UntypedHandler : IFulfillmentHandler
    {
        public string Type => null!;

        public Task FulfillAsync(FulfillmentContext context, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private sealed class AsyncDisposableLicenseHandler(Recorder recorder) : IFulfillmentHandler, IAsyncDisposable
    {
        public string Type => "license";

        public Task FulfillAsync(FulfillmentContext context, CancellationToken cancellationToken)
        {
            recorder.Fulfilled.Enqueue(context);
            return Task.CompletedTask;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private sealed class GenericAuditHandler<T> : IStripeEventHandler
    {
        public Task HandleAsync(StripeEvent stripeEvent, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
