using Microsoft.Extensions.DependencyInjection;
using Wavhaven.Payments.Catalog;
using Wavhaven.Payments.Checkout;
using Wavhaven.Payments.Tests.Support;

namespace Wavhaven.Payments.Tests.Checkout;

/// <summary>
/// Every request <see cref="ICheckoutService"/> refuses: the exception names the field and the problem, and
/// nothing at all reaches Stripe (not even the customer lookup of a registered buyer).
/// </summary>
public class CheckoutServiceRefusalTests
{
    private static readonly CheckoutBuyer Registered = CheckoutBuyer.Registered("user-42", "jane@example.com", "Jane Doe");

    private static CheckoutRequest Request(
        CheckoutBuyer? buyer = null,
        IReadOnlyList<CheckoutLine>? lines = null,
        string fulfillmentType = "license",
        IReadOnlyDictionary<string, string>? metadata = null,
        string? tenantId = null,
        string? idempotencyKey = null,
        string? successUrl = null,
        string? cancelUrl = null,
        int? trialDays = null) => new()
        {
            Buyer = buyer ?? Registered,
            Lines = lines ?? [CheckoutLine.ForPlan("beat-license")],
            FulfillmentType = fulfillmentType,
            Metadata = metadata,
            TenantId = tenantId,
            IdempotencyKey = idempotencyKey,
            SuccessUrl = successUrl,
            CancelUrl = cancelUrl,
            TrialDays = trialDays,
        };

    private static Dictionary<string, string> Keys(int count) => Enumerable.Range(0, count).ToDictionary(i => $"key_{i}", i => "v");

    private static Dictionary<string, string> One(string key, string value = "v") => new() { [key] = value };

    private static CheckoutLine[] Subscription => [CheckoutLine.ForPlan("pro", PriceInterval.Month)];

    /// <summary>A refusal: the request, the field it names, a part of its message, and options if not the defaults.</summary>
    public sealed record Refusal(Func<CheckoutRequest> Request, string Field, string Message, Action<StripePaymentsOptions>? Options = null);

    private static readonly Dictionary<string, Refusal> Refusals = new()
    {
        // The cart
        ["empty cart"] = new(() => Request(lines: []), "Lines", "The cart is empty"),
        ["null cart"] = new(() => new CheckoutRequest { Buyer = Registered, Lines = null!, FulfillmentType = "license" }, "Lines", "The cart is empty"),
        ["more than 100 lines"] = new(() => Request(lines: [.. Enumerable.Repeat(CheckoutLine.Item("Beat", 100, "usd"), 101)]), "Lines", "101 lines; a Checkout session holds at most 100"),
        ["subscription with 21 one-time lines"] = new(() => Request(lines: [.. Subscription, .. Enumerable.Repeat(CheckoutLine.Item("Add-on", 100, "usd"), 21)]), "Lines", "at most 20 lines with recurring prices and 20 with one-time prices; this cart has 1 and 21"),
        ["subscription with 21 recurring lines"] = new(() => Request(lines: [.. Enumerable.Repeat(CheckoutLine.ForPlan("pro", PriceInterval.Month), 21)]), "Lines", "this cart has 21 and 0"),
        ["null line"] = new(() => Request(lines: [CheckoutLine.ForPlan("beat-license"), null!]), "Lines[1]", "Lines[1] is null"),
        ["quantity 0"] = new(() => Request(lines: [CheckoutLine.ForPlan("beat-license", quantity: 0)]), "Lines[0].Quantity", "Lines[0].Quantity is 0; it must be at least 1"),
        ["negative quantity"] = new(() => Request(lines: [CheckoutLine.ForPlan("beat-license"), CheckoutLine.Item("Beat", 100, "usd", quantity: -1)]), "Lines[1].Quantity", "is -1; it must be at least 1"),
        ["mixed plan currencies"] = new(() => Request(lines: [CheckoutLine.ForPlan("beat-license"), CheckoutLine.ForPlan("euro-pack")]), "Lines[1].Currency", "Lines[1] is priced in eur, but the cart's earlier lines are in usd"),
        ["mixed item currency"] = new(() => Request(lines: [CheckoutLine.ForPlan("beat-license"), CheckoutLine.Item("Beat", 100, "EUR")]), "Lines[1].Currency", "priced in eur, but the cart's earlier lines are in usd"),
        ["free plan"] = new(() => Request(lines: [CheckoutLine.ForPlan("free")]), "Lines[0].PlanId", "plan 'free' is free"),
        ["unknown plan"] = new(() => Request(lines: [CheckoutLine.ForPlan("enterprise")]), "Lines[0].PlanId", "Lines[0].PlanId 'enterprise' is not a plan of the catalog. Known plans: beat-license, pro, free, euro-pack"),
        ["plan id in another case"] = new(() => Request(lines: [CheckoutLine.ForPlan("PRO", PriceInterval.Month)]), "Lines[0].PlanId", "'PRO' is not a plan of the catalog"),
        ["empty plan id"] = new(() => Request(lines: [CheckoutLine.ForPlan("")]), "Lines[0].PlanId", "is not a plan of the catalog"),
        ["no interval on a plan with several prices"] = new(() => Request(lines: [CheckoutLine.ForPlan("pro")]), "Lines[0].Interval", "plan 'pro' has several prices (Month, Year); say which with the line's Interval"),
        ["recurring lines of two intervals (Stripe bills one subscription on one interval)"] = new(() => Request(lines: [CheckoutLine.ForPlan("pro", PriceInterval.Month), CheckoutLine.ForPlan("pro", PriceInterval.Year)]), "Lines[1].Interval", "Lines[1] bills every Year, but the cart's earlier recurring lines bill every Month"),
        ["recurring lines of two intervals after a one-time line"] = new(() => Request(lines: [CheckoutLine.ForPlan("beat-license"), CheckoutLine.ForPlan("pro", PriceInterval.Year), CheckoutLine.Item("Stems", 500, "usd"), CheckoutLine.ForPlan("pro", PriceInterval.Month)]), "Lines[3].Interval", "Lines[3] bills every Month, but the cart's earlier recurring lines bill every Year"),
        ["interval the plan lacks"] = new(() => Request(lines: [CheckoutLine.ForPlan("pro", PriceInterval.OneTime)]), "Lines[0].Interval", "plan 'pro' has no OneTime price. It has: Month, Year"),

        // Ad-hoc items
        ["item without a name"] = new(() => Request(lines: [CheckoutLine.Item(" ", 100, "usd")]), "Lines[0].Name", "Lines[0].Name is empty"),
        ["item name cut inside an emoji"] = new(() => Request(lines: [CheckoutLine.ForPlan("beat-license"), CheckoutLine.Item("Beat \uD83C", 100, "usd")]), "Lines[1].Name", "Lines[1].Name holds an unpaired UTF-16 surrogate"),
        ["item name with the halves of an emoji swapped"] = new(() => Request(lines: [CheckoutLine.Item("Beat \uDFA7\uD83C", 100, "usd")]), "Lines[0].Name", "holds an unpaired UTF-16 surrogate"),
        ["item with a negative amount"] = new(() => Request(lines: [CheckoutLine.Item("Beat", -1, "usd")]), "Lines[0].UnitAmount", "Lines[0].UnitAmount is -1"),
        ["item currency of two letters"] = new(() => Request(lines: [CheckoutLine.Item("Beat", 100, "us")]), "Lines[0].Currency", "'us' is not a three-letter ISO currency code"),
        ["item currency with a symbol"] = new(() => Request(lines: [CheckoutLine.Item("Beat", 100, "u$d")]), "Lines[0].Currency", "'u$d' is not a three-letter ISO currency code"),
        ["item without a currency"] = new(() => Request(lines: [CheckoutLine.Item("Beat", 100, null!)]), "Lines[0].Currency", "is not a three-letter ISO currency code"),
        ["item product metadata key over 40"] = new(() => Request(lines: [CheckoutLine.Item("Beat", 100, "usd", productMetadata: One(new string('k', 41)))]), $"Lines[0].ProductMetadata[{new string('k', 41)}]", "is 41 characters long; Stripe allows at most 40"),
        ["item product metadata with 51 keys"] = new(() => Request(lines: [CheckoutLine.Item("Beat", 100, "usd", productMetadata: Keys(51))]), "Lines[0].ProductMetadata", "Lines[0].ProductMetadata has 51 keys; Stripe allows at most 50"),

        // Metadata
        ["48 keys plus the library's 3"] = new(() => Request(metadata: Keys(48)), "Metadata", "Metadata has 48 keys, and the library adds 3 of its own; Stripe allows at most 50 in all, so pass at most 47"),
        ["47 keys plus the library's 4 with a tenant"] = new(() => Request(metadata: Keys(47), tenantId: "acme"), "Metadata", "Metadata has 47 keys, and the library adds 4 of its own; Stripe allows at most 50 in all, so pass at most 46"),
        ["key over 40 characters"] = new(() => Request(metadata: One(new string('k', 41))), $"Metadata[{new string('k', 41)}]", "is 41 characters long; Stripe allows at most 40"),
        ["value over 500 characters"] = new(() => Request(metadata: One("note", new string('v', 501))), "Metadata[note]", "value of 'note' is 501 characters long; Stripe allows at most 500"),
        ["key with an opening bracket"] = new(() => Request(metadata: One("order[id")), "Metadata[order[id]", "contains a square bracket"),
        ["key with a closing bracket"] = new(() => Request(metadata: One("order]")), "Metadata[order]]", "contains a square bracket"),
        ["reserved key"] = new(() => Request(metadata: One("wavhaven_type", "other")), "Metadata[wavhaven_type]", "starts with 'wavhaven_', which the library reserves"),
        ["reserved prefix on an unknown key"] = new(() => Request(metadata: One("wavhaven_order")), "Metadata[wavhaven_order]", "reserves"),
        ["empty key"] = new(() => Request(metadata: One(string.Empty)), "Metadata", "Metadata has an empty key"),
        ["null value"] = new(() => Request(metadata: One("note", null!)), "Metadata[note]", "value of 'note' is null"),
        ["empty value (Stripe reads it as unset, so the key would be lost)"] = new(() => Request(metadata: One("note", string.Empty)), "Metadata[note]", "value of 'note' is empty. Stripe reads an empty metadata value as \"unset this key\""),
        ["empty product metadata value"] = new(() => Request(lines: [CheckoutLine.Item("Beat", 100, "usd", productMetadata: One("sku", string.Empty))]), "Lines[0].ProductMetadata[sku]", "value of 'sku' is empty"),
        ["metadata value with a lone high surrogate"] = new(() => Request(metadata: One("note", "cut \uD83C")), "Metadata[note]", "value of 'note' holds an unpaired UTF-16 surrogate"),
        ["metadata key with a lone low surrogate"] = new(() => Request(metadata: One("note\uDFA7")), "Metadata[note\uDFA7]", "holds an unpaired UTF-16 surrogate"),
        ["reserved key in a read-only dictionary"] = new(() => Request(metadata: new System.Collections.ObjectModel.ReadOnlyDictionary<string, string>(One("wavhaven_user"))), "Metadata[wavhaven_user]", "starts with 'wavhaven_', which the library reserves"),
        ["item product metadata in a sorted dictionary, key with a bracket"] = new(() => Request(lines: [CheckoutLine.Item("Beat", 100, "usd", productMetadata: new SortedDictionary<string, string> { ["a"] = "v", ["sku]"] = "v" })]), "Lines[0].ProductMetadata[sku]]", "Lines[0].ProductMetadata key 'sku]' contains a square bracket"),

        // The buyer
        ["no buyer"] = new(() => new CheckoutRequest { Buyer = null!, Lines = [CheckoutLine.ForPlan("beat-license")], FulfillmentType = "license" }, "Buyer", "Buyer is missing"),
        ["guest without an email"] = new(() => Request(buyer: CheckoutBuyer.Guest(null!, "order-1")), "Buyer.Email", "a guest buyer needs one"),
        ["guest with an empty email"] = new(() => Request(buyer: CheckoutBuyer.Guest("", "order-1")), "Buyer.Email", "Buyer.Email is not a valid email address"),
        ["guest with no at sign"] = new(() => Request(buyer: CheckoutBuyer.Guest("jane.example.com", "order-1")), "Buyer.Email", "is not a valid email address"),
        ["guest with a display name"] = new(() => Request(buyer: CheckoutBuyer.Guest("Jane <jane@example.com>", "order-1")), "Buyer.Email", "is not a valid email address"),
        ["guest with a dotless host"] = new(() => Request(buyer: CheckoutBuyer.Guest("jane@localhost", "order-1")), "Buyer.Email", "is not a valid email address"),
        ["guest with two addresses"] = new(() => Request(buyer: CheckoutBuyer.Guest("jane@example.com, joe@example.com", "order-1")), "Buyer.Email", "is not a valid email address"),
        ["registered buyer with an invalid email"] = new(() => Request(buyer: CheckoutBuyer.Registered("user-42", "jane@")), "Buyer.Email", "Pass a valid one, or null"),
        ["empty user id"] = new(() => Request(buyer: CheckoutBuyer.Registered("")), "Buyer.UserId", "Buyer.UserId is empty"),
        ["blank guest user id"] = new(() => Request(buyer: CheckoutBuyer.Guest("jane@example.com", "  ")), "Buyer.UserId", "Buyer.UserId is empty"),
        ["user id with a lone surrogate (it would arrive as U+FFFD, another user's id)"] = new(() => Request(buyer: CheckoutBuyer.Registered("user-\uD83D")), "Buyer.UserId", "Buyer.UserId holds an unpaired UTF-16 surrogate"),
        ["guest user id ending in a lone surrogate"] = new(() => Request(buyer: CheckoutBuyer.Guest("jane@example.com", "order-\uDE00")), "Buyer.UserId", "holds an unpaired UTF-16 surrogate"),
        ["registered buyer's name with a lone surrogate"] = new(() => Request(buyer: CheckoutBuyer.Registered("user-42", "jane@example.com", "Jane \uD83D")), "Buyer.Name", "Buyer.Name holds an unpaired UTF-16 surrogate"),
        ["guest email with a lone surrogate"] = new(() => Request(buyer: CheckoutBuyer.Guest("jane\uD83D@example.com", "order-1")), "Buyer.Email", "is not a valid email address"),
        ["user id over 200 characters"] = new(() => Request(buyer: CheckoutBuyer.Registered(new string('u', 201))), "Buyer.UserId", "Buyer.UserId is 201 characters long; Stripe's client_reference_id holds at most 200"),

        // Fulfillment, tenant, idempotency
        ["empty fulfillment type"] = new(() => Request(fulfillmentType: ""), "FulfillmentType", "FulfillmentType is empty"),
        ["blank fulfillment type"] = new(() => Request(fulfillmentType: " "), "FulfillmentType", "FulfillmentType is empty"),
        ["fulfillment type over 500 characters"] = new(() => Request(fulfillmentType: new string('t', 501)), "FulfillmentType", "501 characters long"),
        ["empty tenant id"] = new(() => Request(tenantId: ""), "TenantId", "TenantId is empty or blank: leave it null in a single-tenant app"),
        ["blank tenant id"] = new(() => Request(tenantId: " "), "TenantId", "TenantId is empty"),
        ["fulfillment type with a lone surrogate"] = new(() => Request(fulfillmentType: "license\uD83D"), "FulfillmentType", "FulfillmentType holds an unpaired UTF-16 surrogate"),
        ["tenant id with a lone surrogate"] = new(() => Request(tenantId: "acme\uDE00"), "TenantId", "TenantId holds an unpaired UTF-16 surrogate"),
        ["tenant id over 255 characters (the durable customer map's key)"] = new(() => Request(tenantId: new string('t', 256)), "TenantId", "TenantId is 256 characters long; at most 255"),
        ["empty idempotency key"] = new(() => Request(idempotencyKey: ""), "IdempotencyKey", "IdempotencyKey must be 1 to 255 characters long"),
        ["idempotency key over 255 characters"] = new(() => Request(idempotencyKey: new string('i', 256)), "IdempotencyKey", "IdempotencyKey must be 1 to 255 characters long"),
        ["idempotency key with a line break (a header of the caller's choosing)"] = new(() => Request(idempotencyKey: "order-1001\r\nStripe-Account: acct_other"), "IdempotencyKey", "only visible ASCII characters"),
        ["idempotency key with an accented letter"] = new(() => Request(idempotencyKey: "commande-n°1001"), "IdempotencyKey", "only visible ASCII characters"),
        ["idempotency key with a space"] = new(() => Request(idempotencyKey: "order 1001"), "IdempotencyKey", "only visible ASCII characters"),

        // Trials
        ["trial on a payment cart"] = new(() => Request(trialDays: 7), "TrialDays", "TrialDays applies only to subscription checkouts"),
        ["trial of 0 days"] = new(() => Request(lines: Subscription, trialDays: 0), "TrialDays", "TrialDays is 0; Stripe accepts 1 to 730 days"),
        ["trial of 731 days"] = new(() => Request(lines: Subscription, trialDays: 731), "TrialDays", "TrialDays is 731; Stripe accepts 1 to 730 days"),

        // URLs
        ["no success URL anywhere"] = new(() => Request(), "SuccessUrl", "SuccessUrl is not set: pass it on the request or set Stripe:SuccessUrl", options => options.SuccessUrl = null),
        ["no cancel URL anywhere"] = new(() => Request(), "CancelUrl", "CancelUrl is not set: pass it on the request or set Stripe:CancelUrl", options => options.CancelUrl = null),
        ["relative success URL"] = new(() => Request(successUrl: "/checkout/success"), "SuccessUrl", "SuccessUrl must be an absolute http(s) URL"),
        ["success URL without a scheme"] = new(() => Request(successUrl: "shop.example/ok"), "SuccessUrl", "SuccessUrl must be an absolute http(s) URL"),
        ["ftp success URL"] = new(() => Request(successUrl: "ftp://shop.example/ok"), "SuccessUrl", "SuccessUrl must be an absolute http(s) URL"),
        ["relative cancel URL"] = new(() => Request(cancelUrl: "cart"), "CancelUrl", "CancelUrl must be an absolute http(s) URL"),
        ["success URL with a lone surrogate (System.Uri would send U+FFFD)"] = new(() => Request(successUrl: "https://shop.example/ok/\uD83D"), "SuccessUrl", "SuccessUrl must be an absolute http(s) URL"),
        ["javascript cancel URL"] = new(() => Request(cancelUrl: "javascript:alert(1)"), "CancelUrl", "CancelUrl must be an absolute http(s) URL"),
    };

    public static TheoryData<string> RefusalNames => [.. Refusals.Keys];

    [Theory]
    [MemberData(nameof(RefusalNames))]
    public async Task CreateCheckoutAsync_BadRequest_IsRefusedNamingTheFieldAndSendsNothing(string name)
    {
        var refusal = Refusals[name];
        var handler = new StubStripeHandler();
        using var services = TestServices.Build(handler, refusal.Options);
        var sut = services.GetRequiredService<ICheckoutService>();

        var act = () => sut.CreateCheckoutAsync(refusal.Request());

        var error = (await act.Should().ThrowAsync<InvalidPaymentRequestException>()).Which;
        error.Field.Should().Be(refusal.Field);
        error.Message.Should().Contain(refusal.Message);
        handler.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task CreateCheckoutAsync_NullRequest_ThrowsArgumentNull()
    {
        var handler = new StubStripeHandler();
        using var services = TestServices.Build(handler);

        await FluentActions.Awaiting(() => services.GetRequiredService<ICheckoutService>().CreateCheckoutAsync(null!))
            .Should().ThrowAsync<ArgumentNullException>().WithParameterName("request");
        handler.Requests.Should().BeEmpty();
    }

    /// <summary>The accepted side of each limit: a refusal one step further must not creep in.</summary>
    public static TheoryData<string> AcceptedNames => [.. Accepted.Keys];

    private static readonly Dictionary<string, Func<CheckoutRequest>> Accepted = new()
    {
        ["47 keys plus the library's 3"] = () => Request(metadata: Keys(47)),
        ["46 keys plus the library's 4 with a tenant"] = () => Request(metadata: Keys(46), tenantId: "acme"),
        ["key of 40 characters"] = () => Request(metadata: One(new string('k', 40))),
        ["value of 500 characters"] = () => Request(metadata: One("note", new string('v', 500))),
        ["whole emoji in every text"] = () => Request(
            buyer: CheckoutBuyer.Registered("user-\uD83C\uDFA7", "jane@example.com", "Jane \uD83C\uDFA7"),
            lines: [CheckoutLine.Item("Beat \uD83C\uDFA7", 100, "usd", productMetadata: One("mood\uD83C\uDFA7", "\uD83C\uDFA7"))],
            fulfillmentType: "license",
            metadata: One("note", "\uD83C\uDFA7 lo-fi"),
            tenantId: "acme-\uD83C\uDFA7",
            successUrl: "https://shop.example/\uD83C\uDFA7/ok"),
        ["key in another case than a reserved one"] = () => Request(metadata: One("Wavhaven_note")),
        ["product metadata of 50 keys"] = () => Request(lines: [CheckoutLine.Item("Beat", 0, "usd", productMetadata: Keys(50))]),
        ["user id of 200 characters"] = () => Request(buyer: CheckoutBuyer.Registered(new string('u', 200))),
        ["tenant id of 255 characters"] = () => Request(tenantId: new string('t', 255)),
        ["registered buyer without email or name"] = () => Request(buyer: CheckoutBuyer.Registered("user-7")),
        ["idempotency key of 255 characters"] = () => Request(idempotencyKey: new string('i', 255)),
        ["idempotency key with punctuation"] = () => Request(idempotencyKey: "order/1001:retry#2_a.b~c!{x}"),
        ["trial of 1 day"] = () => Request(lines: Subscription, trialDays: 1),
        ["trial of 730 days"] = () => Request(lines: Subscription, trialDays: 730),
        ["100 lines"] = () => Request(lines: [.. Enumerable.Repeat(CheckoutLine.Item("Beat", 100, "usd"), 100)]),
        ["subscription with 20 recurring and 20 one-time lines"] = () => Request(lines: [.. Enumerable.Repeat(CheckoutLine.ForPlan("pro", PriceInterval.Month), 20), .. Enumerable.Repeat(CheckoutLine.Item("Add-on", 100, "usd"), 20)]),
        ["free item"] = () => Request(lines: [CheckoutLine.Item("Sample", 0, "usd")]),
        ["single-price plan without interval"] = () => Request(lines: [CheckoutLine.ForPlan("euro-pack")]),
        ["http URLs"] = () => Request(successUrl: "http://localhost:5000/ok", cancelUrl: "http://localhost:5000/cart"),
    };

    [Theory]
    [MemberData(nameof(AcceptedNames))]
    public async Task CreateCheckoutAsync_AtTheLimit_IsSent(string name)
    {
        var handler = new StubStripeHandler();
        handler.OnJson(HttpMethod.Get, "/v1/customers/search", StripeResponses.EmptySearch);
        handler.OnJson(HttpMethod.Post, "/v1/customers", StripeResponses.CustomerJson("cus_1"));
        handler.OnJson(HttpMethod.Post, "/v1/checkout/sessions", StripeResponses.CheckoutSession("cs_test_1"));
        using var services = TestServices.Build(handler);

        var result = await services.GetRequiredService<ICheckoutService>().CreateCheckoutAsync(Accepted[name]());

        result.SessionId.Should().Be("cs_test_1");
        handler.Requests.Should().ContainSingle(r => r.Path == "/v1/checkout/sessions");
    }
}
