using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Wavhaven.Payments.Stripe;
using Wavhaven.Payments.Subscriptions;
using Wavhaven.Payments.Testing;
using Wavhaven.Payments.Tests.Support;

namespace Wavhaven.Payments.AspNetCore.Tests.Support;

/// <summary>
/// Holds one subscription handler's run after its fetch, until the test lets it go, and records the state each run saves,
/// in the order they saved it: what an app's account would end on.
/// </summary>
public sealed class SubscriptionGate
{
    private int _hold;

    /// <summary>Completes with the state the held run fetched, once it waits.</summary>
    public TaskCompletionSource<string> Held { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Lets the held run go on to save.</summary>
    public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>"sub_… state" per run that saved, in the order of the saves.</summary>
    public ConcurrentQueue<string> Saved { get; } = new();

    /// <summary>Holds the next run after its fetch.</summary>
    public void HoldNext() => Volatile.Write(ref _hold, 1);

    /// <summary>The subscription's state as an account keeps it.</summary>
    public static string State(SubscriptionChange change) => change.Status + (change.CancelAtPeriodEnd ? ", cancels at period end" : ", renews");

    /// <summary>Called by a handler with the change it was given (fetched already): waits there if it is the run to hold.</summary>
    public async Task PassAsync(SubscriptionChange change, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _hold, 0) == 1)
        {
            Held.TrySetResult(State(change));
            await Release.Task.WaitAsync(cancellationToken);
        }
    }
}

/// <summary>A subscription handler that "saves" the state it was given, after the gate.</summary>
public sealed class GatedSubscriptionHandler(SubscriptionGate gate) : ISubscriptionHandler
{
    public async Task HandleAsync(SubscriptionChange change, CancellationToken cancellationToken)
    {
        await gate.PassAsync(change, cancellationToken);
        gate.Saved.Enqueue(change.SubscriptionId + " " + SubscriptionGate.State(change));
    }
}

/// <summary>
/// The emulator as Stripe for the library's apps: subscriptions made through its Checkout, changed through its API, and
/// their events as it emitted them, signed for an app's endpoint.
/// </summary>
public sealed class EmulatedStripe : IAsyncDisposable
{
    private readonly HttpClient _api;

    private EmulatedStripe(StripeEmulator emulator)
    {
        Emulator = emulator;
        _api = new HttpClient { BaseAddress = emulator.BaseUrl };
        _api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", StripeEmulatorOptions.DefaultSecretKey);
    }

    public StripeEmulator Emulator { get; }

    public static async Task<EmulatedStripe> StartAsync()
    {
        var plans = new StripePaymentsOptions();
        TestServices.DefaultOptions(plans);
        return new EmulatedStripe(await StripeEmulator.StartAsync(new StripeEmulatorOptions { Plans = plans.Plans }));
    }

    /// <summary>Points the library at the emulator (after <see cref="TestServices.DefaultOptions"/>).</summary>
    public void Configure(StripePaymentsOptions options)
    {
        options.SecretKey = StripeEmulatorOptions.DefaultSecretKey;
        options.ApiBaseUrl = Emulator.BaseUrl;
        options.MaxNetworkRetries = 0;
    }

    /// <summary>Replaces the test app's Stripe stub with the network, to reach the emulator.</summary>
    public static void UseNetwork(IServiceCollection services) =>
        services.AddHttpClient(StripeHttpClient.HttpClientName).ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler());

    /// <summary>A paid monthly Pro subscription of a registered user; returns its id.</summary>
    public async Task<string> SubscribeAsync(string userId)
    {
        using var created = await _api.PostAsync("v1/checkout/sessions", Form(
            "mode=subscription&line_items[0][price]=price_pro_month&line_items[0][quantity]=1&customer_email=jane%40example.com"
            + "&subscription_data[metadata][wavhaven_user_id]=" + userId + "&metadata[wavhaven_type]=pro"
            + "&success_url=https%3A%2F%2Fshop.example%2Fok&cancel_url=https%3A%2F%2Fshop.example%2Fcart"));
        var session = System.Text.Json.Nodes.JsonNode.Parse(await created.EnsureSuccessStatusCode().Content.ReadAsStringAsync())!;
        await Emulator.CompleteCheckoutAsync((string)session["id"]!);
        var completed = System.Text.Json.Nodes.JsonNode.Parse(await _api.GetStringAsync("v1/checkout/sessions/" + (string)session["id"]!))!;
        return (string)completed["subscription"]!;
    }

    /// <summary>The key the subscription's events take turns under: its customer's.</summary>
    public async Task<string> TurnKeyAsync(string subscriptionId) =>
        "customer:" + (string)System.Text.Json.Nodes.JsonNode.Parse(await _api.GetStringAsync("v1/subscriptions/" + subscriptionId))!["customer"]!;

    /// <summary>Sets the subscription to cancel at its period's end, as the portal does.</summary>
    public async Task CancelAtPeriodEndAsync(string subscriptionId)
    {
        using var updated = await _api.PostAsync("v1/subscriptions/" + subscriptionId, Form("cancel_at_period_end=true"));
        updated.EnsureSuccessStatusCode();
    }

    /// <summary>The body of the last event of <paramref name="type"/> about <paramref name="subscriptionId"/>, as emitted.</summary>
    public byte[] LastEvent(string type, string subscriptionId) => Encoding.UTF8.GetBytes(
        Emulator.Events.Last(e => e.Type == type && (string?)e.DataObject()["id"] == subscriptionId).Json);

    public async ValueTask DisposeAsync()
    {
        _api.Dispose();
        await Emulator.DisposeAsync();
    }

    private static StringContent Form(string body) => new(body, Encoding.UTF8, "application/x-www-form-urlencoded");
}
