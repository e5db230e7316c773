using Microsoft.Extensions.DependencyInjection;
using Wavhaven.Payments.Checkout;
using Wavhaven.Payments.Customers;
using Wavhaven.Payments.Testing.Tests.Support;

namespace Wavhaven.Payments.Testing.Tests.EndToEnd;

/// <summary>
/// An erasure request (GDPR art. 17, CCPA): the app deletes the user's account, and the library must stop linking that user
/// id to the person's Stripe customer. Otherwise the id, once the app hands it out again (a SQLite rowid reused after the
/// last row went, a username someone else takes), gets the erased person's customer: Checkout shows that person's email,
/// prefilled and not editable, and Stripe sends the new user's receipts to it. The customer map (in memory or in
/// <c>wavhaven_customers</c>) is read and written only; search finds the customer again by the user id in its metadata;
/// the customer's creation key, derived from the user id, answers with the erased person's customer for 24 hours.
/// </summary>
public sealed class CustomerErasureTests : IAsyncLifetime
{
    private const string UserId = "42";

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

    [Fact]
    public async Task AnErasedUsersId_GivenToAnotherPerson_DoesNotGetTheErasedPersonsCustomer()
    {
        var alices = await PayAsync("alice@example.com", "Alice");
        var alicesCustomer = (string)(await _stripe.GetOkAsync("/v1/checkout/sessions/" + alices.SessionId))["customer"]!;

        // Alice asks to be forgotten: the app deletes her account and tells the library to forget her user id.
        await using (var scope = _provider.CreateAsyncScope())
        {
            (await scope.ServiceProvider.GetRequiredService<ICustomerResolver>().ForgetCustomerAsync(new CustomerKey(UserId)))
                .Should().Be(1, "Alice had one customer");
        }

        // Bob registers and is given the id Alice had.
        var bobs = await PayAsync("bob@example.com", "Bob");

        var session = await _stripe.GetOkAsync("/v1/checkout/sessions/" + bobs.SessionId);
        ((string)session["customer"]!).Should().NotBe(alicesCustomer, "Bob is not Alice: her customer (her email, her cards, her invoices) is not his");
        ((string)session["customer_details"]!["email"]!).Should().Be("bob@example.com");
        var alice = await _stripe.GetOkAsync("/v1/customers/" + alicesCustomer);
        alice["metadata"]!.AsObject().ContainsKey("wavhaven_user_id").Should().BeFalse("search must not find Alice's customer for the id any more");

        await using var after = _provider.CreateAsyncScope();
        (await after.ServiceProvider.GetRequiredService<ICustomerResolver>().FindCustomerIdAsync(new CustomerKey(UserId)))
            .Should().Be((string)session["customer"]!, "the id is Bob's now");
    }

    [Fact]
    public async Task AnErasedUsersId_CheckingOutWithoutAnEmail_WithinTheDay_DoesNotGetTheErasedPersonsCustomer()
    {
        // An app that leaves the email to Checkout (CheckoutBuyer.Registered(user.Id)): both people's first creations send
        // the same parameters under the user id's key, and Stripe replays the first one's answer for 24 hours.
        var alices = await PayAsync(email: null, name: null);
        var alicesCustomer = (string)(await _stripe.GetOkAsync("/v1/checkout/sessions/" + alices.SessionId))["customer"]!;

        await using (var scope = _provider.CreateAsyncScope())
        {
            (await scope.ServiceProvider.GetRequiredService<ICustomerResolver>().ForgetCustomerAsync(new CustomerKey(UserId)))
                .Should().Be(1, "Alice had one customer");
        }

        var bobs = await PayAsync(email: null, name: null);

        var session = await _stripe.GetOkAsync("/v1/checkout/sessions/" + bobs.SessionId);
        ((string)session["customer"]!).Should().NotBe(alicesCustomer, "Bob is not Alice: her customer (the email Checkout saved on it, her cards) is not his");
    }

    private async Task<CheckoutResult> PayAsync(string? email, string? name)
    {
        await using var scope = _provider.CreateAsyncScope();
        var checkout = await scope.ServiceProvider.GetRequiredService<ICheckoutService>().CreateCheckoutAsync(new CheckoutRequest
        {
            Buyer = CheckoutBuyer.Registered(UserId, email, name),
            Lines = [CheckoutLine.ForPlan("beat-license")],
            FulfillmentType = "license",
        });
        await _emulator.CompleteCheckoutAsync(checkout.Url.ToString());
        return checkout;
    }
}
