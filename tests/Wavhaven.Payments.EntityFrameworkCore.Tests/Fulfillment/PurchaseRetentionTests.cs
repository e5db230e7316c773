using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Wavhaven.Payments.AspNetCore.Tests.Support;
using Wavhaven.Payments.Checkout;
using Wavhaven.Payments.EntityFrameworkCore.Tests.Support;
using Wavhaven.Payments.EntityFrameworkCore.Webhooks;
using Wavhaven.Payments.Fulfillment;
using Wavhaven.Payments.Stripe;
using Wavhaven.Payments.Tests.Support;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.EntityFrameworkCore.Tests.Fulfillment;

/// <summary>
/// A purchase's row is kept for good (README: "purchase rows (no payload) are kept for good"), so it must not keep what a
/// failed attempt of its handler said once the purchase is fulfilled: a handler's exception message often quotes the
/// buyer's email, and nothing ever prunes or replays a purchase row.
/// </summary>
public class PurchaseRetentionTests
{
    private const string BuyerEmail = "jane.doe@example.com";

    [SkippableTheory]
    [InlineData(DatabaseKind.Sqlite)]
    [InlineData(DatabaseKind.PostgreSql)]
    public async Task FulfilledPurchase_KeepsNoFailedAttemptsMessage_PastTheRetention(DatabaseKind kind)
    {
        await using var database = await TestDatabase.CreateAsync(kind);
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var stripe = new StubStripeHandler().OnJson(HttpMethod.Get, "/v1/checkout/sessions/cs_test_retained", TestEvents.CheckoutSession("cs_test_retained").ToJsonString());
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<TimeProvider>(clock);
        services.AddDbContext<TestDbContext>(database.Configure);
        services.AddSingleton(new MailingHandler.Failures { Left = 1 });
        services.AddStripePayments(TestServices.DefaultOptions).UseEntityFrameworkStores<TestDbContext>().AddFulfillmentHandler<MailingHandler>();
        services.AddHttpClient(StripeHttpClient.HttpClientName).ConfigurePrimaryHttpMessageHandler(() => stripe);
        await using var provider = services.BuildServiceProvider();

        await using (var scope = provider.CreateAsyncScope())
        {
            var first = async () => await scope.ServiceProvider.GetRequiredService<ICheckoutService>().SyncCheckoutAsync("cs_test_retained");
            await first.Should().ThrowAsync<InvalidOperationException>().WithMessage($"*{BuyerEmail}*");
        }

        await using (var scope = provider.CreateAsyncScope())
        {
            (await scope.ServiceProvider.GetRequiredService<ICheckoutService>().SyncCheckoutAsync("cs_test_retained")).Status.Should().Be(CheckoutSyncStatus.Fulfilled);
        }

        // Well past the retention: the pruner has run, and the purchase's row stays (as it must, against a second fulfillment).
        clock.Advance(TimeSpan.FromDays(365));
        var pruner = new WebhookEventPruner(provider.GetRequiredService<IServiceScopeFactory>(), provider.GetRequiredService<IOptions<StripePaymentsOptions>>(), clock, NullLogger<WebhookEventPruner>.Instance);
        await pruner.PruneOnceAsync(CancellationToken.None);

        await using var db = database.CreateContext();
        var row = await db.Set<WebhookEventRecord>().AsNoTracking().SingleAsync(e => e.Id == "checkout.session:cs_test_retained");
        row.State.Should().Be("processed");
        row.LastError.Should().BeNull(
            "a fulfilled purchase's row is kept for good, so the message of an attempt that failed before (here quoting the buyer's email) must not stay in it");
    }

    /// <summary>Sends the licence by email; the mail server refuses the address as often as asked, as SMTP errors do, quoting it.</summary>
    private sealed class MailingHandler(MailingHandler.Failures failures) : IFulfillmentHandler
    {
        public string Type => "license";

        public Task FulfillAsync(FulfillmentContext context, CancellationToken cancellationToken) =>
            Interlocked.Decrement(ref failures.Left) >= 0
                ? throw new InvalidOperationException($"Mailbox unavailable: 450 4.2.1 <{BuyerEmail}> try again later.")
                : Task.CompletedTask;

        public sealed class Failures
        {
            public int Left; // a field, for Interlocked
        }
    }
}
