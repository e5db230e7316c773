using Microsoft.Extensions.DependencyInjection;
using Wavhaven.Payments.Catalog;
using Wavhaven.Payments.Checkout;
using Wavhaven.Payments.Customers;
using Wavhaven.Payments.Testing.Tests.Support;

namespace Wavhaven.Payments.Testing.Tests.EndToEnd;

/// <summary>
/// A registered user who changes their email in the app: every checkout passes the new one
/// (<c>CheckoutBuyer.Registered(id, email, name)</c>), yet a checkout gives the user's Stripe customer an email only when
/// it creates it, and Checkout takes the customer's email (prefilled, not editable), so the receipt, the session's
/// <c>customer_details.email</c> (<c>FulfillmentContext.Email</c>) and the subscription's invoices went to the old address,
/// which the app may since have given to another user. The app tells the library of the change with
/// <see cref="ICustomerResolver.UpdateCustomerAsync"/>.
/// </summary>
public sealed class RegisteredBuyerEmailTests : IAsyncLifetime
{
    private StripeEmulator _emulator = null!;
    private StripeHttp _stripe = null!;
    private ServiceProvider _provider = null!;

    public async Task InitializeAsync()
    {
        _emulator = await StripeEmulator.StartAsync(new StripeEmulatorOptions { Plans = TestPlans.Create() });
        _stripe = new StripeHttp(_emulator);
        _provider = LibraryOptions.BuildServices(_emulator);
    }

    public async Task DisposeAsync()
    {
        await _provider.DisposeAsync();
        _stripe.Dispose();
        await _emulator.DisposeAsync();
    }

    private async Task<CheckoutResult> PayAsync(string email)
    {
        await using var scope = _provider.CreateAsyncScope();
        var checkout = await scope.ServiceProvider.GetRequiredService<ICheckoutService>().CreateCheckoutAsync(new CheckoutRequest
        {
            Buyer = CheckoutBuyer.Registered("user-77", email, "Sam"),
            Lines = [CheckoutLine.ForPlan("beat-license")],
            FulfillmentType = "license",
        });
        await _emulator.CompleteCheckoutAsync(checkout.Url.ToString());
        return checkout;
    }

    private async Task<bool> UpdateAsync(string email)
    {
        await using var scope = _provider.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ICustomerResolver>().UpdateCustomerAsync(new CustomerKey("user-77"), email, name: null);
    }

    private int CustomerCount() => _emulator.Events.Count(e => e.Type == "customer.created");

    [Fact]
    public async Task ARegisteredUserWhoChangedTheirEmail_PaysWithTheNewEmail_OnceTheAppUpdatedTheirCustomer()
    {
        var first = await PayAsync("sam.old@example.com");

        // Sam changes the account's email to a new address; the old one may now be another user's.
        var updated = await UpdateAsync("sam.new@example.com");
        var second = await PayAsync("sam.new@example.com");

        updated.Should().BeTrue("Sam has a customer: the first checkout made it");
        var session = await _stripe.GetOkAsync("/v1/checkout/sessions/" + second.SessionId);
        ((string)session["customer_details"]!["email"]!).Should().Be("sam.new@example.com", "the buyer's email is the one the app passed for this checkout");
        var customer = await _stripe.GetOkAsync("/v1/customers/" + (string)session["customer"]!);
        ((string)customer["email"]!).Should().Be("sam.new@example.com", "the customer's email is where Stripe sends its receipts and invoices");
        ((string)customer["name"]!).Should().Be("Sam", "a name not given is left as it is");
        var earlier = await _stripe.GetOkAsync("/v1/checkout/sessions/" + first.SessionId);
        ((string)earlier["customer"]!).Should().Be((string)session["customer"]!, "the user keeps their customer: it is updated, not replaced");
        CustomerCount().Should().Be(1);
    }

    [Fact]
    public async Task AUserWithoutACustomer_IsAnsweredFalse_AndGetsNone_UntilTheirFirstCheckoutMakesOneWithTheirEmail()
    {
        var updated = await UpdateAsync("sam.new@example.com");

        updated.Should().BeFalse("the user has never checked out: there is no customer to update");
        CustomerCount().Should().Be(0, "an update does not create a customer");

        var checkout = await PayAsync("sam.new@example.com");
        var session = await _stripe.GetOkAsync("/v1/checkout/sessions/" + checkout.SessionId);
        ((string)session["customer_details"]!["email"]!).Should().Be("sam.new@example.com");
    }

    /// <summary>
    /// The store names a customer Stripe no longer has (deleted, or of the other mode): Stripe answers the update 404
    /// <c>resource_missing</c>. As at checkout, this is not the app's error: the answer is false, and the user's next
    /// checkout replaces the customer, created with that checkout's (the new) email.
    /// </summary>
    [Fact]
    public async Task AStoredCustomerStripeNoLongerHas_IsAnsweredFalse_AndTheNextCheckoutReplacesItWithTheNewEmail()
    {
        await _provider.GetRequiredService<ICustomerStore>().SetCustomerIdAsync(new CustomerKey("user-77"), "cus_gone_from_stripe");

        var updated = await UpdateAsync("sam.new@example.com");
        var checkout = await PayAsync("sam.new@example.com");

        updated.Should().BeFalse("Stripe has no such customer to update");
        var session = await _stripe.GetOkAsync("/v1/checkout/sessions/" + checkout.SessionId);
        ((string)session["customer"]!).Should().NotBe("cus_gone_from_stripe");
        ((string)session["customer_details"]!["email"]!).Should().Be("sam.new@example.com");
        (await _provider.GetRequiredService<ICustomerStore>().GetCustomerIdAsync(new CustomerKey("user-77"))).Should().Be((string)session["customer"]!);
    }
}
