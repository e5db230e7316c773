using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Wavhaven.Payments.Catalog;
using Wavhaven.Payments.Stripe;
using Wavhaven.Payments.Tests.Support;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.Tests.Stripe;

/// <summary>
/// What the library hands out as read-only must not be a mutable collection that other objects share: a handler that
/// casts one and writes to it would change what every later event, or every later caller of the catalog, reads.
/// </summary>
public class SharedReadOnlyStateTests
{
    private static StripeEvent Parse(string type, string dataObject) =>
        StripeEvent.Parse(Encoding.UTF8.GetBytes("{\"id\":\"evt_" + Guid.NewGuid().ToString("N") + "\",\"object\":\"event\",\"type\":\"" + type + "\",\"data\":{\"object\":" + dataObject + "}}"));

    [Fact]
    public void EmptyMetadata_OfOneObject_IsNotSharedWithEveryOtherObject()
    {
        // Two unrelated customers created outside Checkout: Stripe sends "metadata": {} for both.
        var first = Parse("customer.created", """{"id":"cus_1","object":"customer","metadata":{}}""").ToCustomer();
        var second = Parse("customer.created", """{"id":"cus_2","object":"customer","metadata":{}}""").ToCustomer();

        // A handler tags the first one in memory, through the IDictionary the metadata also is.
        if (first.Metadata is IDictionary<string, string> writable && !writable.IsReadOnly)
        {
            writable[MetadataKeys.UserId] = "user-of-cus_1";
        }

        // SubscriptionChangeFactory reads a subscription's user from its customer's metadata: every other customer
        // without metadata must not now belong to that user.
        second.Metadata.Should().BeEmpty();
        new StripeCheckoutSession().Metadata.Should().BeEmpty();
    }

    [Fact]
    public void PlanGrants_CannotBeChangedThroughACast()
    {
        using var services = TestServices.Build(new StubStripeHandler());
        var catalog = services.GetRequiredService<IPlanCatalog>();
        catalog.TryGetPlan("pro", out var pro).Should().BeTrue();

        // A handler computing one user's grants starts from the plan's and adds a bonus, in place.
        if (pro!.Grants is IDictionary<string, string> writable && !writable.IsReadOnly)
        {
            writable["credits"] = "10500";
        }

        catalog.TryGetPlan("pro", out var again).Should().BeTrue();
        again!.Grants["credits"].Should().Be("500", "the catalog is a singleton built from configuration: one caller must not change every user's plan");
    }
}
