using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Wavhaven.Payments.AspNetCore.Tests.Support;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.AspNetCore.Tests.Webhooks;

/// <summary>
/// Two events of one subscription handled at the same moment, on the in-memory store, with the emulator as Stripe: the
/// first delivery's handler is held after its fetch saw the old state, the subscription changes, and the second delivery
/// arrives. The README promises that an old event never moves a subscription backwards: the second delivery must fetch
/// only after the first one saved, so that the state saved last is the newer one.
/// </summary>
public sealed class SubscriptionSerializationTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private EmulatedStripe _stripe = null!;

    public async Task InitializeAsync() => _stripe = await EmulatedStripe.StartAsync();

    public async Task DisposeAsync() => await _stripe.DisposeAsync();

    [Fact]
    public async Task TwoEventsOfOneSubscriptionAtOnce_TheSecondFetchesAfterTheFirstSaved_SoTheNewerStateIsSavedLast()
    {
        var gate = new SubscriptionGate();
        await using var app = await StartAppAsync(gate);
        var dispatcher = app.Services.GetRequiredService<WebhookDispatcher>();
        var subscription = await _stripe.SubscribeAsync("user-1");
        var key = await _stripe.TurnKeyAsync(subscription);
        gate.HoldNext();
        var first = app.PostAsync(_stripe.LastEvent("customer.subscription.created", subscription));
        (await gate.Held.Task.WaitAsync(Patience)).Should().Be("active, renews");
        await _stripe.CancelAtPeriodEndAsync(subscription);

        var second = app.PostAsync(_stripe.LastEvent("customer.subscription.updated", subscription));
        await WaitUntilAsync(() => second.IsCompleted || dispatcher.LockUsers(key) == 2);
        gate.Release.SetResult();

        (await first).StatusCode.Should().Be(HttpStatusCode.OK);
        (await second).StatusCode.Should().Be(HttpStatusCode.OK);
        gate.Saved.Should().Equal(
            [subscription + " active, renews", subscription + " active, cancels at period end"],
            "the second delivery fetched after the first saved: the newer state is saved last");
        dispatcher.LockedKeys.Should().Be(0, "a released subscription leaves no entry behind");
    }

    [Fact]
    public async Task EventsOfTwoSubscriptions_RunAtOnce()
    {
        var gate = new SubscriptionGate();
        await using var app = await StartAppAsync(gate);
        var held = await _stripe.SubscribeAsync("user-1");
        var other = await _stripe.SubscribeAsync("user-2");
        gate.HoldNext();
        var first = app.PostAsync(_stripe.LastEvent("customer.subscription.created", held));
        await gate.Held.Task.WaitAsync(Patience);

        using var second = await app.PostAsync(_stripe.LastEvent("customer.subscription.created", other)).WaitAsync(Patience);

        second.StatusCode.Should().Be(HttpStatusCode.OK, "another subscription's event does not wait for this one's");
        gate.Saved.Should().Equal(other + " active, renews");
        gate.Release.SetResult();
        (await first).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task ACancelledWait_LeavesNothingLocked_AndItsEventRunsOnItsRedelivery()
    {
        var gate = new SubscriptionGate();
        await using var app = await StartAppAsync(gate);
        var dispatcher = app.Services.GetRequiredService<WebhookDispatcher>();
        var processor = app.Services.GetRequiredService<IWebhookProcessor>();
        var subscription = await _stripe.SubscribeAsync("user-1");
        var key = await _stripe.TurnKeyAsync(subscription);
        gate.HoldNext();
        var first = app.PostAsync(_stripe.LastEvent("customer.subscription.created", subscription));
        await gate.Held.Task.WaitAsync(Patience);
        await _stripe.CancelAtPeriodEndAsync(subscription);
        var updated = _stripe.LastEvent("customer.subscription.updated", subscription);

        // The endpoint hands the processor the request's token: Stripe giving up on the delivery cancels it.
        using var aborted = new CancellationTokenSource();
        var waiting = processor.ProcessAsync(updated, StripeWebhookSignature.CreateHeader(updated, WebhookTestApp.Secret, DateTimeOffset.UtcNow), aborted.Token);
        await WaitUntilAsync(() => waiting.IsCompleted || dispatcher.LockUsers(key) == 2);
        waiting.IsCompleted.Should().BeFalse("the second event of the subscription waits for the first one's handlers");
        await aborted.CancelAsync();

        await FluentActions.Awaiting(() => waiting).Should().ThrowAsync<OperationCanceledException>();
        dispatcher.LockUsers(key).Should().Be(1, "the cancelled wait left; the first delivery still holds the lock");
        gate.Release.SetResult();
        (await first).StatusCode.Should().Be(HttpStatusCode.OK);
        dispatcher.LockedKeys.Should().Be(0);

        using var redelivery = await app.PostAsync(updated).WaitAsync(Patience);
        redelivery.StatusCode.Should().Be(HttpStatusCode.OK, "the cancelled delivery released its claim and holds no lock");
        gate.Saved.Should().Equal(subscription + " active, renews", subscription + " active, cancels at period end");
    }

    private Task<WebhookTestApp> StartAppAsync(SubscriptionGate gate) => WebhookTestApp.StartAsync(
        _stripe.Configure,
        payments: payments => payments.AddSubscriptionHandler<GatedSubscriptionHandler>(),
        services: services =>
        {
            services.AddSingleton(gate);
            EmulatedStripe.UseNetwork(services);
        });

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "the condition should hold within the test's patience");
            await Task.Delay(10);
        }
    }
}
