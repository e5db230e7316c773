using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Wavhaven.Payments.AspNetCore.Tests.Support;
using Wavhaven.Payments.Checkout;
using Wavhaven.Payments.EntityFrameworkCore.Tests.Support;
using Wavhaven.Payments.Fulfillment;
using Wavhaven.Payments.Stripe;
using Wavhaven.Payments.Tests.Support;

namespace Wavhaven.Payments.EntityFrameworkCore.Tests.Fulfillment;

/// <summary>
/// The success page's sync fulfils a purchase outside any webhook's transaction: with the EF Core stores, the handler's
/// writes and the purchase's processed mark still commit together, or not at all.
/// </summary>
public class SuccessPageSyncTests
{
    [SkippableTheory]
    [InlineData(DatabaseKind.Sqlite)]
    [InlineData(DatabaseKind.PostgreSql)]
    public async Task HandlerThatThrowsAfterSaving_LeavesNothingHalfWritten_SoTheNextSyncWritesTheOrderOnce(DatabaseKind kind)
    {
        await using var database = await TestDatabase.CreateAsync(kind);
        var stripe = new StubStripeHandler().OnJson(HttpMethod.Get, "/v1/checkout/sessions/cs_test_sync_half", TestEvents.CheckoutSession("cs_test_sync_half").ToJsonString());
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddDbContext<TestDbContext>(database.Configure);
        services.AddSingleton(new SaveThenEmailHandler.Failures { Left = 1 });
        services.AddStripePayments(TestServices.DefaultOptions).UseEntityFrameworkStores<TestDbContext>().AddFulfillmentHandler<SaveThenEmailHandler>();
        services.AddHttpClient(StripeHttpClient.HttpClientName).ConfigurePrimaryHttpMessageHandler(() => stripe);
        await using var provider = services.BuildServiceProvider();

        await using (var scope = provider.CreateAsyncScope())
        {
            var first = async () => await scope.ServiceProvider.GetRequiredService<ICheckoutService>().SyncCheckoutAsync("cs_test_sync_half");
            await first.Should().ThrowAsync<InvalidOperationException>().WithMessage("*mail server*");
        }

        await using (var db = database.CreateContext())
        {
            (await db.Orders.CountAsync(o => o.SessionId == "cs_test_sync_half")).Should().Be(0, "the saved order rolled back with the failed attempt");
        }

        await using (var scope = provider.CreateAsyncScope())
        {
            (await scope.ServiceProvider.GetRequiredService<ICheckoutService>().SyncCheckoutAsync("cs_test_sync_half")).Status.Should().Be(CheckoutSyncStatus.Fulfilled);
        }

        await using var after = database.CreateContext();
        (await after.Orders.CountAsync(o => o.SessionId == "cs_test_sync_half")).Should().Be(1);
    }

    /// <summary>Saves the order, then sends the licence by email: the email fails as often as asked.</summary>
    private sealed class SaveThenEmailHandler(TestDbContext db, SaveThenEmailHandler.Failures failures) : IFulfillmentHandler
    {
        public string Type => "license";

        public async Task FulfillAsync(FulfillmentContext context, CancellationToken cancellationToken)
        {
            db.Orders.Add(new Order { SessionId = context.SessionId, EventId = "sync" });
            await db.SaveChangesAsync(cancellationToken);
            if (Interlocked.Decrement(ref failures.Left) >= 0)
            {
                throw new InvalidOperationException("The mail server is down.");
            }
        }

        public sealed class Failures
        {
            public int Left; // a field, for Interlocked
        }
    }
}
