using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Wavhaven.Payments.Checkout;
using Wavhaven.Payments.Fulfillment;
using Wavhaven.Payments.Testing.Tests.Support;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.Testing.Tests.EndToEnd;

/// <summary>
/// One-time purchases paid with a delayed method (a bank debit), end to end: the library's checkout, the emulator's hosted
/// page and its signed webhook deliveries over loopback HTTP, the core's webhook processor on Kestrel, and the success
/// page's sync.
/// </summary>
public sealed class DelayedPaymentTests : IAsyncLifetime
{
    private StripeEmulator _emulator = null!;
    private WebApplication _app = null!;
    private readonly Hooks _hooks = new();

    public async Task InitializeAsync()
    {
        _emulator = await StripeEmulator.StartAsync(new StripeEmulatorOptions { Plans = TestPlans.Create(), WebhookRetryDelays = [TimeSpan.FromMilliseconds(20)] });
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseKestrel().ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(_hooks);
        var secret = "whsec_" + Guid.NewGuid().ToString("N");
        builder.Services.AddStripePayments(options =>
        {
            LibraryOptions.Apply(options, _emulator);
            options.WebhookSecrets.Add(secret);
        }).AddFulfillmentHandler<RecordingHandler>();
        _app = builder.Build();
        _app.MapPost("/webhooks/stripe", async (HttpContext context, IWebhookProcessor processor) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            var result = await processor.ProcessAsync(body.ToArray(), context.Request.Headers["Stripe-Signature"].ToString(), context.RequestAborted);
            return Results.Text(result.Reason, statusCode: result.StatusCode);
        });
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        _emulator.AddWebhookEndpoint(new Uri(address.TrimEnd('/') + "/webhooks/stripe"), secret);
    }

    public async Task DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        await _emulator.DisposeAsync();
    }

    private async Task<CheckoutResult> CheckoutAsync(bool subscription = false)
    {
        await using var scope = _app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ICheckoutService>().CreateCheckoutAsync(new CheckoutRequest
        {
            Buyer = CheckoutBuyer.Guest("jane@example.com", "order-1001"),
            Lines = [subscription ? CheckoutLine.ForPlan("pro", Catalog.PriceInterval.Month) : CheckoutLine.ForPlan("beat-license")],
            FulfillmentType = "license",
            Metadata = new Dictionary<string, string> { ["order_id"] = "1001" },
        });
    }

    private async Task<CheckoutSyncResult> SyncAsync(string sessionId)
    {
        await using var scope = _app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ICheckoutService>().SyncCheckoutAsync(sessionId);
    }

    [Fact]
    public async Task BankDebitThatClears_IsFulfilledOnce_OnlyAfterItClears()
    {
        var checkout = await CheckoutAsync();

        await _emulator.CompleteCheckoutAsync(checkout.SessionId, EmulatedPayment.DelayedBankDebit);
        await _emulator.WaitForDeliveriesAsync();

        (await SyncAsync(checkout.SessionId)).Status.Should().Be(CheckoutSyncStatus.PaymentPending);
        _hooks.Calls.Should().BeEmpty("an unpaid session is never fulfilled");

        await _emulator.SettleAsyncPaymentAsync(checkout.SessionId, succeeded: true);
        await _emulator.WaitForDeliveriesAsync();
        (await SyncAsync(checkout.SessionId)).Status.Should().Be(CheckoutSyncStatus.Fulfilled);

        _hooks.Calls.Should().Equal(("fulfil", checkout.SessionId, "paid"));
        _emulator.Deliveries.Should().OnlyContain(d => d.Succeeded);
    }

    /// <summary>
    /// After a bank debit fails, Stripe's session stays <c>complete</c> and <c>unpaid</c> for good; the webhook reaches
    /// <see cref="IFulfillmentHandler.OnPaymentFailedAsync"/>, but the success page's sync still says the payment "has not
    /// cleared yet": a buyer who comes back to it is told to wait for a payment that will never arrive.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task BankDebitThatFails_IsNotReportedByTheSyncAsStillPending(bool subscription)
    {
        var checkout = await CheckoutAsync(subscription);
        await _emulator.CompleteCheckoutAsync(checkout.SessionId, EmulatedPayment.DelayedBankDebit);
        await _emulator.WaitForDeliveriesAsync();

        await _emulator.SettleAsyncPaymentAsync(checkout.SessionId, succeeded: false);
        await _emulator.WaitForDeliveriesAsync();

        _hooks.Calls.Should().Equal(("payment_failed", checkout.SessionId, "unpaid"));
        var result = await SyncAsync(checkout.SessionId);
        result.IsFulfilled.Should().BeFalse();
        result.Status.ToString().Should().Be("PaymentFailed", "the payment failed: the sync should say so, as the webhook did, rather than PaymentPending");
        _hooks.Calls.Should().ContainSingle();
    }

    /// <summary>
    /// A payment-mode checkout whose total is zero (a free item, or a 100% discount) needs no payment: Stripe completes it
    /// with <c>no_payment_required</c> and creates no payment intent or charge, and the library fulfils it on that status.
    /// The emulator's subscription mode follows that rule; its payment mode charged the buyer zero instead, so an app
    /// could not test its handling of a free order (a handler that reads the payment intent, say) against it.
    /// </summary>
    [Fact]
    public async Task FreeOrder_CompletesWithNoPaymentRequired_WithoutAPaymentIntent_AndIsFulfilledOnce()
    {
        CheckoutResult checkout;
        await using (var scope = _app.Services.CreateAsyncScope())
        {
            checkout = await scope.ServiceProvider.GetRequiredService<ICheckoutService>().CreateCheckoutAsync(new CheckoutRequest
            {
                Buyer = CheckoutBuyer.Guest("jane@example.com", "order-1002"),
                Lines = [CheckoutLine.Item("Free sample pack", 0, "usd")],
                FulfillmentType = "license",
            });
        }

        await _emulator.CompleteCheckoutAsync(checkout.SessionId);
        await _emulator.WaitForDeliveriesAsync();

        _emulator.Events.Select(e => e.Type).Should().NotContain(["payment_intent.created", "payment_intent.succeeded", "charge.succeeded"], "nothing is charged");
        var completed = _emulator.Events.Single(e => e.Type == "checkout.session.completed").DataObject();
        ((string)completed["payment_status"]!).Should().Be("no_payment_required");
        completed["payment_intent"].Should().BeNull();
        (await SyncAsync(checkout.SessionId)).Status.Should().Be(CheckoutSyncStatus.Fulfilled);
        _hooks.Calls.Should().Equal(("fulfil", checkout.SessionId, "no_payment_required"));
    }

    public sealed class Hooks
    {
        public ConcurrentQueue<(string Hook, string SessionId, string? PaymentStatus)> Queue { get; } = new();

        public IReadOnlyList<(string Hook, string SessionId, string? PaymentStatus)> Calls => [.. Queue];
    }

    private sealed class RecordingHandler(Hooks hooks) : IFulfillmentHandler
    {
        public string Type => "license";

        public Task FulfillAsync(FulfillmentContext context, CancellationToken cancellationToken)
        {
            hooks.Queue.Enqueue(("fulfil", context.SessionId, context.Session.PaymentStatus));
            return Task.CompletedTask;
        }

        public Task OnPaymentFailedAsync(FulfillmentContext context, CancellationToken cancellationToken)
        {
            hooks.Queue.Enqueue(("payment_failed", context.SessionId, context.Session.PaymentStatus));
            return Task.CompletedTask;
        }

        public Task OnExpiredAsync(FulfillmentContext context, CancellationToken cancellationToken)
        {
            hooks.Queue.Enqueue(("expired", context.SessionId, context.Session.PaymentStatus));
            return Task.CompletedTask;
        }
    }
}
