using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Wavhaven.Payments.Catalog;
using Wavhaven.Payments.Checkout;
using Wavhaven.Payments.Customers;
using Wavhaven.Payments.Tests.Support;

namespace Wavhaven.Payments.Tests.Checkout;

/// <summary>
/// Going live (or a customer deleted in the dashboard) with the customer map of test mode: the stored customer is
/// replaced on the user's next checkout. Replacing it must keep the README's promise that two concurrent checkouts
/// of one user make one customer, as a first checkout does.
/// </summary>
public class CheckoutServiceMissingCustomerTests
{
    private const string Gone = "cus_test_made_in_test_mode";

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TwoConcurrentCheckoutsOfOneUser_WhoseStoredCustomerIsMissing_ReplaceItWithOneCustomer(bool twoInstances)
    {
        // Stripe, as it behaves: the stored customer is of the other mode; search lags behind creations (about a minute),
        // so neither checkout's search sees the other's new customer; a creation repeated under one idempotency key
        // answers with the first one's customer.
        var handler = new StubStripeHandler();
        var bothRefused = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var refusals = 0;
        var created = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        var sessions = 0;
        handler.On(HttpMethod.Post, "/v1/checkout/sessions", async (request, _) =>
        {
            if (request.Body.Contains("customer=" + Gone, StringComparison.Ordinal))
            {
                if (Interlocked.Increment(ref refusals) == 2)
                {
                    bothRefused.TrySetResult();
                }

                // Two tabs (or a double click) are in flight together: both reach Stripe before either has replaced it.
                await bothRefused.Task.WaitAsync(TimeSpan.FromSeconds(10));
                return StubStripeHandler.Error(HttpStatusCode.BadRequest, "invalid_request_error",
                    $"No such customer: '{Gone}'; a similar object exists in test mode, but a live mode key was used to make this request.",
                    param: "customer", code: "resource_missing");
            }

            return StubStripeHandler.Json(StripeResponses.CheckoutSession("cs_live_" + Interlocked.Increment(ref sessions)));
        });
        handler.OnJson(HttpMethod.Get, "/v1/customers/search", StripeResponses.EmptySearch);
        handler.On(HttpMethod.Post, "/v1/customers", request =>
        {
            var id = created.GetOrAdd(request.Header("Idempotency-Key")!, _ => "cus_live_" + Guid.NewGuid().ToString("N")[..10]);
            return StubStripeHandler.Json(StripeResponses.CustomerJson(id, "user-9"));
        });

        var store = new InMemoryCustomerStore();
        await store.SetCustomerIdAsync(new CustomerKey("user-9"), Gone);
        var first = Build(handler, store);
        var second = twoInstances ? Build(handler, store) : first;

        var checkouts = await Task.WhenAll(
            CheckoutAsync(first, "checkout-order-7-tab-1"),
            CheckoutAsync(second, "checkout-order-8-tab-2"));

        var customers = handler.Requests
            .Where(r => r.Method == HttpMethod.Post && r.Path == "/v1/checkout/sessions" && !r.Body.Contains(Gone, StringComparison.Ordinal))
            .Select(r => Uri.UnescapeDataString(r.Body.Split('&').Single(p => p.StartsWith("customer=", StringComparison.Ordinal))["customer=".Length..]))
            .ToList();
        checkouts.Should().HaveCount(2);
        created.Values.Distinct().Should().ContainSingle("one user gets one live customer, however many of their checkouts replace the missing one at once");
        customers.Distinct().Should().ContainSingle("both checkouts bill the customer the store names, so the portal finds the subscription");
        (await store.GetCustomerIdAsync(new CustomerKey("user-9"))).Should().Be(customers[0]);
    }

    /// <summary>
    /// The replacement's creation answered 5xx but made the customer (Stripe keeps that answer under the key, so a retry
    /// under it cannot say so). Search is eventually consistent and does not see it yet; the list by email does. Creating
    /// under a key of its own at once, as the replacement did, gives the user a second live customer.
    /// </summary>
    [Fact]
    public async Task ReplacingAMissingCustomer_CreationFailedButMadeTheCustomer_DoesNotMakeASecond()
    {
        var handler = new StubStripeHandler();
        var made = StripeResponses.Customer("cus_live_made", "user-9");
        made["email"] = "lee@example.com";
        var createdFirst = 0;
        handler.On(HttpMethod.Post, "/v1/checkout/sessions", request => request.Body.Contains("customer=" + Gone, StringComparison.Ordinal)
            ? StubStripeHandler.Error(HttpStatusCode.BadRequest, "invalid_request_error", $"No such customer: '{Gone}'", param: "customer", code: "resource_missing")
            : StubStripeHandler.Json(StripeResponses.CheckoutSession("cs_live_1")));
        handler.OnJson(HttpMethod.Get, "/v1/customers/search", StripeResponses.EmptySearch); // not indexed yet
        handler.On(HttpMethod.Get, "/v1/customers", request => StubStripeHandler.Json(
            Volatile.Read(ref createdFirst) == 1 && request.Query.Contains("email=lee%40example.com", StringComparison.Ordinal) ? StripeResponses.List(made) : StripeResponses.List()));
        handler.On(HttpMethod.Post, "/v1/customers", request =>
        {
            if (Interlocked.CompareExchange(ref createdFirst, 1, 0) == 0)
            {
                return StubStripeHandler.Error(HttpStatusCode.InternalServerError, "api_error", "An unknown error occurred");
            }

            return StubStripeHandler.Json(StripeResponses.CustomerJson("cus_live_second", "user-9"));
        });
        var store = new InMemoryCustomerStore();
        await store.SetCustomerIdAsync(new CustomerKey("user-9"), Gone);
        using var services = TestServices.Build(handler, options => options.MaxNetworkRetries = 0,
            collection => collection.Replace(ServiceDescriptor.Singleton<ICustomerStore>(store)));

        await CheckoutAsync(services, "checkout-order-7");

        handler.Requests.Count(r => r.Method == HttpMethod.Post && r.Path == "/v1/customers").Should().Be(1, "a second creation would give the user two customers");
        (await store.GetCustomerIdAsync(new CustomerKey("user-9"))).Should().Be("cus_live_made");
        handler.Requests.Last(r => r.Path == "/v1/checkout/sessions").Body.Should().Contain("customer=cus_live_made");
    }

    private static ServiceProvider Build(StubStripeHandler handler, ICustomerStore store) =>
        TestServices.Build(handler, services: collection => collection.Replace(ServiceDescriptor.Singleton(store)));

    private static Task<CheckoutResult> CheckoutAsync(ServiceProvider services, string idempotencyKey) =>
        services.GetRequiredService<ICheckoutService>().CreateCheckoutAsync(new CheckoutRequest
        {
            Buyer = CheckoutBuyer.Registered("user-9", "lee@example.com", "Lee"),
            Lines = [CheckoutLine.ForPlan("pro", PriceInterval.Month)],
            FulfillmentType = "pro",
            IdempotencyKey = idempotencyKey,
        });
}
