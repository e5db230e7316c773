using Microsoft.Extensions.DependencyInjection;
using Wavhaven.Payments.EntityFrameworkCore.Tests.Support;
using Wavhaven.Payments.Tests.Support;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.EntityFrameworkCore.Tests.Webhooks;

/// <summary>
/// Claims shared by instances whose clock steps: each service provider stands for one instance, with a clock of its own,
/// on one PostgreSQL database (the setup the README recommends for several instances). Instances whose clocks disagree by
/// more than a lease's slack are outside what the store promises (the README's Running several instances says so).
/// </summary>
public sealed class LeaseClockTests
{
    private const string Purchase = "checkout.session:cs_test_clock";

    /// <summary>
    /// An NTP correction (or a VM resumed and resynchronised) steps the holder's clock back while its handlers run. Its next
    /// renewal must not pull the lease it already holds back into the past: the holder is alive and renewing, so another
    /// instance must still find the claim in progress rather than take it and run the handlers a second time beside it.
    /// </summary>
    [SkippableFact]
    public async Task Renewal_AfterTheHoldersClockSteppedBack_DoesNotShortenTheLease()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseKind.PostgreSql);
        var start = DateTimeOffset.UtcNow;
        var holderClock = new SteppingClock(start);
        var otherClock = new SteppingClock(start);
        await using var holder = StoreServices.Build(database, holderClock, o => o.WebhookClaimLease = TimeSpan.FromMinutes(5));
        await using var other = StoreServices.Build(database, otherClock, o => o.WebhookClaimLease = TimeSpan.FromMinutes(5));
        await using var holderScope = holder.CreateAsyncScope();
        var holderStore = holderScope.ServiceProvider.GetRequiredService<IWebhookEventStore>();
        (await holderStore.TryClaimAsync(Purchase, "checkout.fulfillment", ReadOnlyMemory<byte>.Empty)).Status.Should().Be(WebhookClaimStatus.Claimed);

        // A renewal period (a third of the lease) later, the holder's clock is stepped back ten minutes; the other's is right.
        holderClock.Now = start + TimeSpan.FromMinutes(100.0 / 60) - TimeSpan.FromMinutes(10);
        otherClock.Now = start + TimeSpan.FromMinutes(100.0 / 60);
        (await ((IRenewableWebhookEventStore)holderStore).RenewClaimAsync(Purchase)).Should().BeTrue();

        await using var otherScope = other.CreateAsyncScope();
        var claim = await otherScope.ServiceProvider.GetRequiredService<IWebhookEventStore>().TryClaimAsync(Purchase, "checkout.fulfillment", ReadOnlyMemory<byte>.Empty);
        claim.Status.Should().Be(WebhookClaimStatus.InProgress, "the holder claimed the purchase under a five-minute lease less than two minutes ago, and has renewed it since");
    }
}
