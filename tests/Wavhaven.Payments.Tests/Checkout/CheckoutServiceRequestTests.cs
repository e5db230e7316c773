using Microsoft.Extensions.DependencyInjection;
using Wavhaven.Payments.Catalog;
using Wavhaven.Payments.Checkout;
using Wavhaven.Payments.Customers;
using Wavhaven.Payments.Tests.Support;

namespace Wavhaven.Payments.Tests.Checkout;

/// <summary>The exact requests a checkout sends to Stripe: bodies as encoded, and the headers that matter.</summary>
public class CheckoutServiceRequestTests
{
    private const string SessionId = "cs_test_a1B2c3";

    private static (ICheckoutService Sut, StubStripeHandler Handler, ServiceProvider Services) Create(Action<StripePaymentsOptions>? configure = null)
    {
        var handler = new StubStripeHandler();
        handler.OnJson(HttpMethod.Post, "/v1/checkout/sessions", StripeResponses.CheckoutSession(SessionId));
        var services = TestServices.Build(handler, configure);
        return (services.GetRequiredService<ICheckoutService>(), handler, services);
    }

    private static CheckoutRequest GuestRequest(string? successUrl = null, string? cancelUrl = null) => new()
    {
        Buyer = CheckoutBuyer.Guest("jane@example.com", "order-1001"),
        Lines = [CheckoutLine.ForPlan("beat-license", quantity: 2)],
        FulfillmentType = "license",
        SuccessUrl = successUrl,
        CancelUrl = cancelUrl,
    };

    private static void ShouldCarryPinnedHeaders(RecordedRequest request, string? idempotencyKey = null, string idempotencyPattern = "^wavhaven-[0-9a-f]{32}$")
    {
        request.Header("Stripe-Version").Should().Be("2026-10-28.endive");
        request.Header("Authorization").Should().Be("Bearer " + TestServices.SecretKey);
        if (request.Method == HttpMethod.Post)
        {
            request.Header("Content-Type").Should().Be("application/x-www-form-urlencoded");
            if (idempotencyKey is not null)
            {
                request.Header("Idempotency-Key").Should().Be(idempotencyKey);
            }
            else
            {
                request.Header("Idempotency-Key").Should().MatchRegex(idempotencyPattern);
            }
        }
        else
        {
            request.Header("Idempotency-Key").Should().BeNull();
            request.Header("Content-Type").Should().BeNull();
            request.Body.Should().BeEmpty();
        }
    }

    [Fact]
    public async Task CreateCheckoutAsync_GuestCart_SendsThePinnedSessionRequest()
    {
        var (sut, handler, _) = Create();

        var result = await sut.CreateCheckoutAsync(new CheckoutRequest
        {
            Buyer = CheckoutBuyer.Guest("jane@example.com", "order-1001"),
            Lines =
            [
                CheckoutLine.ForPlan("beat-license", quantity: 2),
                CheckoutLine.Item("Stems & MIDI (pack)", 1500, "USD", productMetadata: new Dictionary<string, string> { ["beat_id"] = "b-7" }),
            ],
            FulfillmentType = "license",
            Metadata = new Dictionary<string, string> { ["order_id"] = "1001" },
            IdempotencyKey = "checkout-order-1001",
        });

        var request = handler.Requests.Should().ContainSingle().Subject;
        request.Method.Should().Be(HttpMethod.Post);
        request.Uri.Should().Be(new Uri("https://api.stripe.com/v1/checkout/sessions"));
        ShouldCarryPinnedHeaders(request, "checkout-order-1001");
        request.Body.Should().Be(
            "mode=payment"
            + "&line_items[0][price]=price_license_test"
            + "&line_items[0][quantity]=2"
            + "&line_items[1][price_data][currency]=usd"
            + "&line_items[1][price_data][unit_amount]=1500"
            + "&line_items[1][price_data][product_data][name]=Stems%20%26%20MIDI%20%28pack%29"
            + "&line_items[1][price_data][product_data][metadata][beat_id]=b-7"
            + "&line_items[1][quantity]=1"
            + "&client_reference_id=order-1001"
            + "&customer_email=jane%40example.com"
            + "&metadata[order_id]=1001"
            + "&metadata[wavhaven_type]=license"
            + "&metadata[wavhaven_user_id]=order-1001"
            + "&metadata[wavhaven_buyer]=guest"
            + "&payment_intent_data[metadata][order_id]=1001"
            + "&payment_intent_data[metadata][wavhaven_type]=license"
            + "&payment_intent_data[metadata][wavhaven_user_id]=order-1001"
            + "&payment_intent_data[metadata][wavhaven_buyer]=guest"
            + "&success_url=https%3A%2F%2Fshop.example%2Fcheckout%2Fsuccess%3Fsession_id%3D%7BCHECKOUT_SESSION_ID%7D"
            + "&cancel_url=https%3A%2F%2Fshop.example%2Fcart");

        result.SessionId.Should().Be(SessionId);
        result.Url.Should().Be(new Uri("https://checkout.stripe.com/c/pay/" + SessionId));
        result.ExpiresAt.Should().Be(DateTimeOffset.FromUnixTimeSeconds(1767312000));
    }

    /// <summary>
    /// The combinations the two tests around it leave out: a guest's subscription, the caller's metadata beside a tenant in
    /// both places, an item in subscription mode; the metadata as dictionaries, or as other read-only dictionaries (which
    /// the validation and the form take another loop for).
    /// </summary>
    [Theory]
    [InlineData("dictionary")]
    [InlineData("read-only")]
    [InlineData("sorted")]
    public async Task CreateCheckoutAsync_GuestSubscriptionWithMetadataTenantAndAnItem_SendsThePinnedBody(string metadataType)
    {
        var (sut, handler, _) = Create();
        IReadOnlyDictionary<string, string> Metadata(Dictionary<string, string> pairs) => metadataType switch
        {
            "read-only" => new System.Collections.ObjectModel.ReadOnlyDictionary<string, string>(pairs),
            "sorted" => new SortedDictionary<string, string>(pairs, StringComparer.Ordinal),
            _ => pairs,
        };

        await sut.CreateCheckoutAsync(new CheckoutRequest
        {
            Buyer = CheckoutBuyer.Guest("sam@example.com", "cart-77"),
            Lines =
            [
                CheckoutLine.Item("Setup & onboarding", 500, "usd", quantity: 2, productMetadata: Metadata(new() { ["kind"] = "setup", ["tier"] = "gold" })),
                CheckoutLine.ForPlan("pro", PriceInterval.Year),
            ],
            FulfillmentType = "subscription",
            Metadata = Metadata(new() { ["campaign"] = "black friday", ["ref"] = "a/b" }),
            TenantId = "acme",
            TrialDays = 7,
        });

        handler.Requests.Should().ContainSingle().Which.Body.Should().Be(
            "mode=subscription"
            + "&line_items[0][price_data][currency]=usd"
            + "&line_items[0][price_data][unit_amount]=500"
            + "&line_items[0][price_data][product_data][name]=Setup%20%26%20onboarding"
            + "&line_items[0][price_data][product_data][metadata][kind]=setup"
            + "&line_items[0][price_data][product_data][metadata][tier]=gold"
            + "&line_items[0][quantity]=2"
            + "&line_items[1][price]=price_pro_year"
            + "&line_items[1][quantity]=1"
            + "&client_reference_id=cart-77"
            + "&customer_email=sam%40example.com"
            + "&metadata[campaign]=black%20friday"
            + "&metadata[ref]=a%2Fb"
            + "&metadata[wavhaven_type]=subscription"
            + "&metadata[wavhaven_user_id]=cart-77"
            + "&metadata[wavhaven_buyer]=guest"
            + "&metadata[wavhaven_tenant_id]=acme"
            + "&subscription_data[metadata][campaign]=black%20friday"
            + "&subscription_data[metadata][ref]=a%2Fb"
            + "&subscription_data[metadata][wavhaven_type]=subscription"
            + "&subscription_data[metadata][wavhaven_user_id]=cart-77"
            + "&subscription_data[metadata][wavhaven_buyer]=guest"
            + "&subscription_data[metadata][wavhaven_tenant_id]=acme"
            + "&subscription_data[trial_period_days]=7"
            + "&success_url=https%3A%2F%2Fshop.example%2Fcheckout%2Fsuccess%3Fsession_id%3D%7BCHECKOUT_SESSION_ID%7D"
            + "&cancel_url=https%3A%2F%2Fshop.example%2Fcart");
    }

    [Fact]
    public async Task CreateCheckoutAsync_RegisteredSubscriptionWithTrial_SearchesCreatesTheCustomerThenOpensTheSession()
    {
        var (sut, handler, services) = Create();
        handler.OnJson(HttpMethod.Get, "/v1/customers/search", StripeResponses.EmptySearch);
        handler.OnJson(HttpMethod.Post, "/v1/customers", StripeResponses.CustomerJson("cus_Q1new", "user-42", "acme"));

        var result = await sut.CreateCheckoutAsync(new CheckoutRequest
        {
            Buyer = CheckoutBuyer.Registered("user-42", "jane@example.com", "Jane Doe"),
            Lines = [CheckoutLine.ForPlan("pro", PriceInterval.Month)],
            FulfillmentType = "subscription",
            TenantId = "acme",
            TrialDays = 14,
            AllowPromotionCodes = true,
            AutomaticTax = true,
        });

        handler.Requests.Select(r => $"{r.Method} {r.Path}").Should().Equal(
            "GET /v1/customers/search",
            "POST /v1/customers",
            "POST /v1/checkout/sessions");

        var search = handler.Requests[0];
        ShouldCarryPinnedHeaders(search);
        search.Query.Should().Be("query=metadata[%27wavhaven_user_id%27]%3A%27user-42%27%20AND%20metadata[%27wavhaven_tenant_id%27]%3A%27acme%27&limit=10");
        Uri.UnescapeDataString(search.Query).Should().Be("query=metadata['wavhaven_user_id']:'user-42' AND metadata['wavhaven_tenant_id']:'acme'&limit=10");

        var create = handler.Requests[1];
        ShouldCarryPinnedHeaders(create, "wavhaven-customer-272012f4f1132782de1c9005997bdfd4");
        create.Body.Should().Be("email=jane%40example.com&name=Jane%20Doe&metadata[wavhaven_user_id]=user-42&metadata[wavhaven_tenant_id]=acme");

        var session = handler.Requests[2];
        ShouldCarryPinnedHeaders(session, idempotencyPattern: "^wavhaven-checkout-[0-9a-f]{32}$");
        session.Body.Should().Be(
            "mode=subscription"
            + "&line_items[0][price]=price_pro_month"
            + "&line_items[0][quantity]=1"
            + "&client_reference_id=user-42"
            + "&customer=cus_Q1new"
            + "&metadata[wavhaven_type]=subscription"
            + "&metadata[wavhaven_user_id]=user-42"
            + "&metadata[wavhaven_buyer]=registered"
            + "&metadata[wavhaven_tenant_id]=acme"
            + "&subscription_data[metadata][wavhaven_type]=subscription"
            + "&subscription_data[metadata][wavhaven_user_id]=user-42"
            + "&subscription_data[metadata][wavhaven_buyer]=registered"
            + "&subscription_data[metadata][wavhaven_tenant_id]=acme"
            + "&subscription_data[trial_period_days]=14"
            + "&success_url=https%3A%2F%2Fshop.example%2Fcheckout%2Fsuccess%3Fsession_id%3D%7BCHECKOUT_SESSION_ID%7D"
            + "&cancel_url=https%3A%2F%2Fshop.example%2Fcart"
            + "&allow_promotion_codes=true"
            + "&automatic_tax[enabled]=true"
            + "&customer_update[address]=auto");

        result.SessionId.Should().Be(SessionId);
        var stored = await services.GetRequiredService<ICustomerStore>().GetCustomerIdAsync(new CustomerKey("user-42", "acme"));
        stored.Should().Be("cus_Q1new");
    }

    [Fact]
    public async Task CreateCheckoutAsync_RegisteredBuyerKnownToTheStore_SendsOnlyTheSession()
    {
        var (sut, handler, services) = Create();
        await services.GetRequiredService<ICustomerStore>().SetCustomerIdAsync(new CustomerKey("user-42"), "cus_known");

        await sut.CreateCheckoutAsync(new CheckoutRequest
        {
            Buyer = CheckoutBuyer.Registered("user-42"),
            Lines = [CheckoutLine.ForPlan("beat-license")],
            FulfillmentType = "license",
        });

        var request = handler.Requests.Should().ContainSingle().Subject;
        request.Body.Should().Contain("&customer=cus_known&").And.NotContain("customer_email");
        request.Body.Should().Contain("&metadata[wavhaven_buyer]=registered&payment_intent_data[metadata]");
    }

    [Fact]
    public async Task CreateCheckoutAsync_GeneratedIdempotencyKeys_DifferPerCall()
    {
        var (sut, handler, _) = Create();

        await sut.CreateCheckoutAsync(GuestRequest());
        await sut.CreateCheckoutAsync(GuestRequest());

        handler.Requests.Select(r => r.Header("Idempotency-Key")).Should().OnlyHaveUniqueItems().And.AllSatisfy(key => key.Should().MatchRegex("^wavhaven-checkout-[0-9a-f]{32}$"));
    }

    [Theory]
    [InlineData("https://shop.example/done", "https://shop.example/done?session_id={CHECKOUT_SESSION_ID}")]
    [InlineData("https://shop.example/done?order=7", "https://shop.example/done?order=7&session_id={CHECKOUT_SESSION_ID}")]
    [InlineData("https://shop.example/done#thanks", "https://shop.example/done?session_id={CHECKOUT_SESSION_ID}#thanks")]
    [InlineData("https://shop.example/done?order=7#thanks", "https://shop.example/done?order=7&session_id={CHECKOUT_SESSION_ID}#thanks")]
    [InlineData("https://shop.example/done?", "https://shop.example/done?session_id={CHECKOUT_SESSION_ID}")]
    [InlineData("https://shop.example/#/done?tab=2", "https://shop.example/?session_id={CHECKOUT_SESSION_ID}#/done?tab=2")]
    [InlineData("https://shop.example/done?cs={CHECKOUT_SESSION_ID}", "https://shop.example/done?cs={CHECKOUT_SESSION_ID}")]
    [InlineData("https://shop.example/orders/{CHECKOUT_SESSION_ID}/done", "https://shop.example/orders/{CHECKOUT_SESSION_ID}/done")]
    [InlineData("https://shop.example/done?session_id=%7BCHECKOUT_SESSION_ID%7D", "https://shop.example/done?session_id={CHECKOUT_SESSION_ID}")]
    [InlineData("https://shop.example/done?session_id=%7bCHECKOUT_SESSION_ID%7d#thanks", "https://shop.example/done?session_id={CHECKOUT_SESSION_ID}#thanks")]
    public async Task CreateCheckoutAsync_SuccessUrl_CarriesTheSessionIdPlaceholderInItsQuery(string successUrl, string expected)
    {
        var (sut, handler, _) = Create();

        await sut.CreateCheckoutAsync(GuestRequest(successUrl));

        Form(handler.Requests.Single())["success_url"].Should().Be(expected);
    }

    [Fact]
    public async Task CreateCheckoutAsync_RequestUrls_OverrideTheOptions()
    {
        var (sut, handler, _) = Create();

        await sut.CreateCheckoutAsync(GuestRequest("https://other.example/ok?session_id={CHECKOUT_SESSION_ID}", "https://other.example/back"));

        var form = Form(handler.Requests.Single());
        form["success_url"].Should().Be("https://other.example/ok?session_id={CHECKOUT_SESSION_ID}");
        form["cancel_url"].Should().Be("https://other.example/back");
    }

    [Fact]
    public async Task CreateCheckoutAsync_UrlsOnlyInOptions_AreUsed()
    {
        var (sut, handler, _) = Create(options =>
        {
            options.SuccessUrl = "http://localhost:5000/paid";
            options.CancelUrl = "http://localhost:5000/cart";
        });

        await sut.CreateCheckoutAsync(GuestRequest());

        var form = Form(handler.Requests.Single());
        form["success_url"].Should().Be("http://localhost:5000/paid?session_id={CHECKOUT_SESSION_ID}");
        form["cancel_url"].Should().Be("http://localhost:5000/cart");
    }

    [Fact]
    public async Task CreateCheckoutAsync_OptionsUrlsChangedAtRunTime_AreCheckedAndUsedAgain()
    {
        var (sut, handler, services) = Create();
        var options = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<StripePaymentsOptions>>().Value;
        await sut.CreateCheckoutAsync(GuestRequest());

        options.SuccessUrl = "https://changed.example/" + "thanks";
        options.CancelUrl = "https://changed.example/" + "basket";
        await sut.CreateCheckoutAsync(GuestRequest());
        options.SuccessUrl = "not a url " + Guid.NewGuid();
        var refused = () => sut.CreateCheckoutAsync(GuestRequest());

        var forms = handler.Requests.Select(Form).ToList();
        forms[1]["success_url"].Should().Be("https://changed.example/thanks?session_id={CHECKOUT_SESSION_ID}");
        forms[1]["cancel_url"].Should().Be("https://changed.example/basket");
        forms[0]["success_url"].Should().NotBe(forms[1]["success_url"]);
        (await refused.Should().ThrowAsync<InvalidPaymentRequestException>()).Which.Field.Should().Be("SuccessUrl");
        handler.Requests.Should().HaveCount(2);
    }

    [Fact]
    public async Task CreateCheckoutAsync_CartWithARecurringPriceAndAnItem_IsASubscriptionWithoutPaymentIntentData()
    {
        var (sut, handler, _) = Create();

        await sut.CreateCheckoutAsync(new CheckoutRequest
        {
            Buyer = CheckoutBuyer.Guest("jane@example.com", "guest-9"),
            Lines = [CheckoutLine.Item("Setup fee", 500, "usd"), CheckoutLine.ForPlan("pro", PriceInterval.Year)],
            FulfillmentType = "subscription",
        });

        var form = Form(handler.Requests.Single());
        form["mode"].Should().Be("subscription");
        form["line_items[1][price]"].Should().Be("price_pro_year");
        form["subscription_data[metadata][wavhaven_buyer]"].Should().Be("guest");
        form.Keys.Should().NotContain(key => key.StartsWith("payment_intent_data", StringComparison.Ordinal))
            .And.NotContain("subscription_data[trial_period_days]")
            .And.NotContain("allow_promotion_codes")
            .And.NotContain("automatic_tax[enabled]");
    }

    [Fact]
    public async Task CreateCheckoutAsync_GuestWithAutomaticTax_LeavesTheCustomerAlone()
    {
        // customer_update needs a customer: Checkout asks a guest for the address and keeps it on the session.
        var (sut, handler, _) = Create();

        await sut.CreateCheckoutAsync(new CheckoutRequest
        {
            Buyer = CheckoutBuyer.Guest("jane@example.com", "guest-9"),
            Lines = [CheckoutLine.ForPlan("beat-license")],
            FulfillmentType = "license",
            AutomaticTax = true,
        });

        var form = Form(handler.Requests.Single());
        form["automatic_tax[enabled]"].Should().Be("true");
        form.Keys.Should().NotContain(key => key.StartsWith("customer_update", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CreateCheckoutAsync_LiveKey_SendsLivePriceIds()
    {
        var handler = new StubStripeHandler();
        handler.OnJson(HttpMethod.Post, "/v1/checkout/sessions", StripeResponses.CheckoutSession(SessionId));
        using var services = TestServices.Build(handler, options =>
        {
            options.SecretKey = "sk_live_51LiveKeyDoNotLog";
            options.Plans.Remove(options.Plans.Single(plan => plan.Id == "euro-pack"));
        });

        await services.GetRequiredService<ICheckoutService>().CreateCheckoutAsync(GuestRequest());

        var request = handler.Requests.Single();
        Form(request)["line_items[0][price]"].Should().Be("price_license_live");
        request.Header("Authorization").Should().Be("Bearer sk_live_51LiveKeyDoNotLog");
    }

    [Fact]
    public async Task CreateCheckoutAsync_SessionWithoutUrl_ThrowsInvalidOperation()
    {
        var handler = new StubStripeHandler();
        handler.OnJson(HttpMethod.Post, "/v1/checkout/sessions", """{"id":"cs_test_embedded","object":"checkout.session","url":null}""");
        using var services = TestServices.Build(handler);

        var act = () => services.GetRequiredService<ICheckoutService>().CreateCheckoutAsync(GuestRequest());

        (await act.Should().ThrowAsync<InvalidOperationException>()).WithMessage("*cs_test_embedded*without a URL*");
    }

    /// <summary>
    /// The success page's session id comes from the browser. Escaping leaves dots alone and <see cref="Uri"/> resolves
    /// dot segments away, so "." would read GET /v1/checkout/sessions/ (the account's list) and ".." GET /v1/checkout/.
    /// </summary>
    [Theory]
    [InlineData(".")]
    [InlineData("..")]
    public async Task SyncCheckoutAsync_DotSegmentId_IsRefusedAndSendsNothing(string sessionId)
    {
        var (sut, handler, services) = Create();
        using var _ = services;
        handler.OnJson(HttpMethod.Get, "*", """{"id":"cs_test_a1","object":"checkout.session","status":"open","payment_status":"unpaid"}""");

        var act = () => sut.SyncCheckoutAsync(sessionId);

        (await act.Should().ThrowAsync<ArgumentException>()).WithParameterName("sessionId").WithMessage($"'{sessionId}' is not a Stripe object id*");
        handler.Requests.Should().BeEmpty();
    }

    [Theory]
    [InlineData("cs_test_a/b", "/v1/checkout/sessions/cs_test_a%2Fb")]
    [InlineData("a..b", "/v1/checkout/sessions/a..b")]
    [InlineData("...", "/v1/checkout/sessions/...")]
    public async Task SyncCheckoutAsync_OtherIds_StayOneSegmentUnderTheSessionsPath(string sessionId, string path)
    {
        var (sut, handler, services) = Create();
        using var _ = services;
        handler.OnJson(HttpMethod.Get, "*", """{"id":"cs_test_a1","object":"checkout.session","status":"open","payment_status":"unpaid"}""");

        await sut.SyncCheckoutAsync(sessionId);

        handler.Requests.Should().ContainSingle().Which.Path.Should().Be(path);
    }

    /// <summary>The decoded pairs of a form body.</summary>
    private static Dictionary<string, string> Form(RecordedRequest request) =>
        request.Body.Split('&').Select(pair => pair.Split('=', 2)).ToDictionary(pair => Uri.UnescapeDataString(pair[0]), pair => Uri.UnescapeDataString(pair[1]));
}
