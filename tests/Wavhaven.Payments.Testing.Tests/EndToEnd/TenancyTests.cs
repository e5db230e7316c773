using Microsoft.Extensions.DependencyInjection;
using Wavhaven.Payments.Checkout;
using Wavhaven.Payments.Customers;
using Wavhaven.Payments.Portal;
using Wavhaven.Payments.Testing.Tests.Support;

namespace Wavhaven.Payments.Testing.Tests.EndToEnd;

/// <summary>
/// A SaaS app serving many tenants from one Stripe account: the customers of one tenant's user must never be another
/// tenant's (or a tenant-less user's), whatever the user ids the tenants hand out. Each "restart" is a new service
/// provider, whose in-memory customer store starts empty, so the library finds customers again by Stripe's search.
/// </summary>
public sealed class TenancyTests : IAsyncLifetime
{
    private StripeEmulator _emulator = null!;
    private StripeHttp _stripe = null!;

    public async Task InitializeAsync()
    {
        _emulator = await StripeEmulator.StartAsync(new StripeEmulatorOptions { Plans = TestPlans.Create() });
        _stripe = new StripeHttp(_emulator);
    }

    public async Task DisposeAsync()
    {
        _stripe.Dispose();
        await _emulator.DisposeAsync();
    }

    private ServiceProvider Start() => LibraryOptions.BuildServices(_emulator);

    private static async Task<string> CustomerOfAsync(ServiceProvider services, string userId, string? tenantId) =>
        await services.GetRequiredService<ICustomerResolver>().GetOrCreateCustomerIdAsync(new CustomerKey(userId, tenantId), "user" + userId + "@example.com", null);

    /// <summary>
    /// Tenants count their users from 1, so user "42" exists in many of them, and the app's tenant-less users (personal
    /// accounts beside the organisations) have a "42" too. The tenant-less user's search names only the user id, so it
    /// returns every tenant's "42": the library reads only the first page of ten, newest first, and there the
    /// tenant-less user's own customer, the oldest, is not.
    /// </summary>
    [Fact]
    public async Task ATenantlessUser_WhoseIdElevenTenantsAlsoHandOut_KeepsTheirCustomer_AfterARestart()
    {
        string own;
        await using (var services = Start())
        {
            own = await CustomerOfAsync(services, "42", null);
            for (var tenant = 1; tenant <= 11; tenant++)
            {
                await CustomerOfAsync(services, "42", "tenant-" + tenant);
            }
        }

        await using (var services = Start())
        {
            (await services.GetRequiredService<ICustomerResolver>().FindCustomerIdAsync(new CustomerKey("42"))).Should().Be(own,
                "the user has a customer; other tenants' users of the same id must not hide it");
            var portal = await services.GetRequiredService<IBillingPortalService>().CreatePortalSessionAsync(new BillingPortalRequest
            {
                UserId = "42",
                ReturnUrl = "https://shop.example/account",
            });
            portal.Url.Should().NotBeNull();
        }
    }

    /// <summary>
    /// The same crowd, a day later (Stripe has pruned the creation's idempotency key): the tenant-less user's next
    /// checkout, finding no customer by search, creates a second one, and the user's subscriptions and saved cards stay
    /// on the first, out of reach of the portal.
    /// </summary>
    [Fact]
    public async Task ATenantlessUser_WhoseIdElevenTenantsAlsoHandOut_ChecksOutWithTheirCustomer_ADayAfterARestart()
    {
        string own;
        await using (var services = Start())
        {
            own = await CustomerOfAsync(services, "42", null);
            for (var tenant = 1; tenant <= 11; tenant++)
            {
                await CustomerOfAsync(services, "42", "tenant-" + tenant);
            }
        }

        await _emulator.AdvanceClockAsync(TimeSpan.FromHours(25));
        await using (var services = Start())
        {
            var checkout = await services.GetRequiredService<ICheckoutService>().CreateCheckoutAsync(new CheckoutRequest
            {
                Buyer = CheckoutBuyer.Registered("42", "user42@example.com", null),
                Lines = [CheckoutLine.ForPlan("beat-license")],
                FulfillmentType = "license",
            });

            var session = await _stripe.GetOkAsync("/v1/checkout/sessions/" + checkout.SessionId);
            ((string)session["customer"]!).Should().Be(own, "the user has a customer; a second one would split their billing");
            _emulator.Events.Count(e => e.Type == "customer.created").Should().Be(12);
        }
    }
}
