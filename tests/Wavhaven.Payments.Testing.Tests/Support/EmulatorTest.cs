using System.Text.Json.Nodes;

namespace Wavhaven.Payments.Testing.Tests.Support;

/// <summary>A started emulator with the test catalog, a webhook receiver, and an API client, per test.</summary>
public abstract class EmulatorTest : IAsyncLifetime
{
    protected StripeEmulator Emulator { get; private set; } = null!;

    protected WebhookReceiver Receiver { get; private set; } = null!;

    protected StripeHttp Stripe { get; private set; } = null!;

    protected string WebhookSecret { get; private set; } = null!;

    /// <summary>The receiver's status for the n-th webhook; 200 by default.</summary>
    protected virtual Func<int, int>? ReceiverStatus => null;

    protected virtual void Configure(StripeEmulatorOptions options)
    {
    }

    public async Task InitializeAsync()
    {
        Receiver = await WebhookReceiver.StartAsync(ReceiverStatus);
        var options = new StripeEmulatorOptions
        {
            Plans = TestPlans.Create(),
            WebhookRetryDelays = [TimeSpan.FromMilliseconds(10)],
        };
        Configure(options);
        Emulator = await StripeEmulator.StartAsync(options);
        WebhookSecret = Emulator.AddWebhookEndpoint(Receiver.Url);
        Stripe = new StripeHttp(Emulator);
    }

    public async Task DisposeAsync()
    {
        Stripe.Dispose();
        await Emulator.DisposeAsync();
        await Receiver.DisposeAsync();
    }

    /// <summary>The types of the events emitted so far, in order.</summary>
    protected IReadOnlyList<string> EventTypes() => [.. Emulator.Events.Select(e => e.Type)];

    protected IReadOnlyList<string> EventTypesSince(int count) => [.. Emulator.Events.Skip(count).Select(e => e.Type)];

    protected EmulatedEvent LastEvent(string type) => Emulator.Events.Last(e => e.Type == type);

    protected Task<JsonObject> CreateSubscriptionSessionAsync(string extra = "") =>
        Stripe.PostOkAsync("/v1/checkout/sessions",
            "mode=subscription&line_items[0][price]=" + TestPlans.ProMonthPrice + "&line_items[0][quantity]=1"
            + "&customer_email=jane%40example.com&client_reference_id=user-42&metadata[wavhaven_type]=pro"
            + "&subscription_data[metadata][wavhaven_user_id]=user-42"
            + "&success_url=https%3A%2F%2Fshop.example%2Fok%3Fsession_id%3D%7BCHECKOUT_SESSION_ID%7D&cancel_url=https%3A%2F%2Fshop.example%2Fcart" + extra);

    protected Task<JsonObject> CreatePaymentSessionAsync(string extra = "") =>
        Stripe.PostOkAsync("/v1/checkout/sessions",
            "mode=payment&line_items[0][price]=" + TestPlans.LicensePrice + "&line_items[0][quantity]=2"
            + "&line_items[1][price_data][currency]=usd&line_items[1][price_data][unit_amount]=999&line_items[1][price_data][product_data][name]=Beat%20%2342&line_items[1][quantity]=1"
            + "&customer_email=guest%40example.com&client_reference_id=order-1001&metadata[order_id]=1001"
            + "&payment_intent_data[metadata][wavhaven_type]=license&payment_intent_data[description]=Order%201001"
            + "&success_url=https%3A%2F%2Fshop.example%2Fok%3Fsession_id%3D%7BCHECKOUT_SESSION_ID%7D&cancel_url=https%3A%2F%2Fshop.example%2Fcart" + extra);

    /// <summary>A paid monthly Pro subscription; returns its id.</summary>
    protected async Task<string> SubscribeAsync(string extra = "")
    {
        var session = await CreateSubscriptionSessionAsync(extra);
        await Emulator.CompleteCheckoutAsync((string)session["id"]!);
        var completed = await Stripe.GetOkAsync("/v1/checkout/sessions/" + (string)session["id"]!);
        return (string)completed["subscription"]!;
    }
}
