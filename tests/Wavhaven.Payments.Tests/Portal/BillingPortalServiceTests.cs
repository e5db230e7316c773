using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Wavhaven.Payments.Catalog;
using Wavhaven.Payments.Customers;
using Wavhaven.Payments.Portal;
using Wavhaven.Payments.Tests.Support;

namespace Wavhaven.Payments.Tests.Portal;

/// <summary>The portal session requests, with and without a plan switch, and what the service refuses.</summary>
public class BillingPortalServiceTests
{
    private const string ReturnUrl = "https://shop.example/account";

    private static async Task<(IBillingPortalService Sut, StubStripeHandler Handler)> Create(string? storedCustomerId = "cus_Q1known", string? tenantId = null, bool withStorageAddOn = false)
    {
        var handler = new StubStripeHandler();
        handler.OnJson(HttpMethod.Post, "/v1/billing_portal/sessions", StripeResponses.PortalSession("bps_1Abc"));
        var services = TestServices.Build(handler, options =>
        {
            if (withStorageAddOn)
            {
                options.Plans.Add(new PlanOptions
                {
                    Id = "storage",
                    BillingType = BillingType.Subscription,
                    Prices = { new PlanPriceOptions { Interval = PriceInterval.Month, TestPriceId = "price_storage_month", Amount = 300, Currency = "usd" } },
                });
                options.Plans.Add(new PlanOptions
                {
                    Id = "team",
                    BillingType = BillingType.Subscription,
                    Prices = { new PlanPriceOptions { Interval = PriceInterval.Month, TestPriceId = "price_team_month", Amount = 4900, Currency = "usd" } },
                });
            }
        });
        if (storedCustomerId is not null)
        {
            await services.GetRequiredService<ICustomerStore>().SetCustomerIdAsync(new CustomerKey("user-42", tenantId), storedCustomerId);
        }

        return (services.GetRequiredService<IBillingPortalService>(), handler);
    }

    private static void ShouldCarryPinnedHeaders(RecordedRequest request)
    {
        request.Header("Stripe-Version").Should().Be("2026-10-28.endive");
        request.Header("Authorization").Should().Be("Bearer " + TestServices.SecretKey);
    }

    [Fact]
    public async Task CreatePortalSessionAsync_PlanSwitch_ListsSubscriptionsThenOpensTheConfirmation()
    {
        var (sut, handler) = await Create();
        handler.OnJson(HttpMethod.Get, "/v1/subscriptions", StripeResponses.List(
            StripeResponses.Subscription("sub_old", "canceled", ("si_old", "price_pro_month")),
            StripeResponses.Subscription("sub_addon", "active", ("si_addon", "price_not_in_catalog")),
            StripeResponses.Subscription("sub_1Live", "active", ("si_1Pro", "price_pro_month"))));

        var result = await sut.CreatePortalSessionAsync(new BillingPortalRequest { UserId = "user-42", ReturnUrl = ReturnUrl, SwitchToPriceId = "price_pro_year" });

        handler.Requests.Select(r => $"{r.Method} {r.Path}").Should().Equal("GET /v1/subscriptions", "POST /v1/billing_portal/sessions");

        var list = handler.Requests[0];
        ShouldCarryPinnedHeaders(list);
        list.Query.Should().Be("customer=cus_Q1known&limit=10");
        list.Header("Idempotency-Key").Should().BeNull();
        list.Body.Should().BeEmpty();

        var session = handler.Requests[1];
        ShouldCarryPinnedHeaders(session);
        session.Header("Content-Type").Should().Be("application/x-www-form-urlencoded");
        session.Header("Idempotency-Key").Should().MatchRegex("^wavhaven-[0-9a-f]{32}$");
        session.Body.Should().Be(
            "customer=cus_Q1known"
            + "&return_url=https%3A%2F%2Fshop.example%2Faccount"
            + "&flow_data[type]=subscription_update_confirm"
            + "&flow_data[subscription_update_confirm][subscription]=sub_1Live"
            + "&flow_data[subscription_update_confirm][items][0][id]=si_1Pro"
            + "&flow_data[subscription_update_confirm][items][0][price]=price_pro_year"
            + "&flow_data[after_completion][type]=redirect"
            + "&flow_data[after_completion][redirect][return_url]=https%3A%2F%2Fshop.example%2Faccount");

        result.SessionId.Should().Be("bps_1Abc");
        result.Url.Should().Be(new Uri("https://billing.stripe.com/p/session/bps_1Abc"));
    }

    [Theory]
    [InlineData("trialing")]
    [InlineData("past_due")]
    public async Task CreatePortalSessionAsync_PlanSwitch_AcceptsTrialingAndPastDueSubscriptions(string status)
    {
        var (sut, handler) = await Create();
        handler.OnJson(HttpMethod.Get, "/v1/subscriptions", StripeResponses.List(StripeResponses.Subscription("sub_1", status, ("si_1", "price_pro_year"))));

        await sut.CreatePortalSessionAsync(new BillingPortalRequest { UserId = "user-42", ReturnUrl = ReturnUrl, SwitchToPriceId = "price_pro_month" });

        handler.Requests[1].Body.Should().Contain("&flow_data[subscription_update_confirm][subscription]=sub_1&flow_data[subscription_update_confirm][items][0][id]=si_1&flow_data[subscription_update_confirm][items][0][price]=price_pro_month&");
    }

    [Fact]
    public async Task CreatePortalSessionAsync_WithoutSwitch_SendsOnlyCustomerAndReturnUrl()
    {
        var (sut, handler) = await Create();

        var result = await sut.CreatePortalSessionAsync(new BillingPortalRequest { UserId = "user-42", ReturnUrl = ReturnUrl });

        var request = handler.Requests.Should().ContainSingle().Subject;
        request.Path.Should().Be("/v1/billing_portal/sessions");
        request.Body.Should().Be("customer=cus_Q1known&return_url=https%3A%2F%2Fshop.example%2Faccount");
        result.SessionId.Should().Be("bps_1Abc");
    }

    [Fact]
    public async Task CreatePortalSessionAsync_CustomerNotInStore_IsFoundBySearchWithTheTenant()
    {
        var (sut, handler) = await Create(storedCustomerId: null);
        handler.OnJson(HttpMethod.Get, "/v1/customers/search", StripeResponses.Search(StripeResponses.Customer("cus_found", "user-42", "acme")));

        await sut.CreatePortalSessionAsync(new BillingPortalRequest { UserId = "user-42", TenantId = "acme", ReturnUrl = ReturnUrl });

        handler.Requests.Select(r => $"{r.Method} {r.Path}").Should().Equal("GET /v1/customers/search", "POST /v1/billing_portal/sessions");
        Uri.UnescapeDataString(handler.Requests[0].Query).Should().Be("query=metadata['wavhaven_user_id']:'user-42' AND metadata['wavhaven_tenant_id']:'acme'&limit=10");
        handler.Requests[1].Body.Should().StartWith("customer=cus_found&");
        handler.Requests.Should().NotContain(r => r.Method == HttpMethod.Post && r.Path == "/v1/customers", "the portal never creates a customer");
    }

    public static TheoryData<string, string?, string?, string> Refusals => new()
    {
        // userId, returnUrl, switchToPriceId, field
        { "", ReturnUrl, null, "UserId" },
        { " ", ReturnUrl, null, "UserId" },
        { "user-42", null, null, "ReturnUrl" },
        { "user-42", "/account", null, "ReturnUrl" },
        { "user-42", "ftp://shop.example/account", null, "ReturnUrl" },
        { @"user-\uD83D", ReturnUrl, null, "UserId" }, // escapes, read by the test: theory data would carry U+FFFD
        { "user-42", @"https://shop.example/account/\uDE00", null, "ReturnUrl" },
        { "user-42", ReturnUrl, "price_unknown", "SwitchToPriceId" },
        { "user-42", ReturnUrl, "price_pro_year_live", "SwitchToPriceId" },
        { "user-42", ReturnUrl, "price_license_test", "SwitchToPriceId" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task CreatePortalSessionAsync_BadRequest_IsRefusedAndSendsNothing(string userId, string? returnUrl, string? switchToPriceId, string field)
    {
        var (sut, handler) = await Create();

        var act = () => sut.CreatePortalSessionAsync(new BillingPortalRequest { UserId = Regex.Unescape(userId), ReturnUrl = returnUrl is null ? null! : Regex.Unescape(returnUrl), SwitchToPriceId = switchToPriceId });

        var error = (await act.Should().ThrowAsync<InvalidPaymentRequestException>()).Which;
        error.Field.Should().Be(field);
        handler.Requests.Should().BeEmpty();
    }

    [Theory]
    [InlineData("price_unknown", "SwitchToPriceId 'price_unknown' is not a test-mode price of the catalog.")]
    [InlineData("price_pro_year_live", "SwitchToPriceId 'price_pro_year_live' is not a test-mode price of the catalog.")]
    [InlineData("price_license_test", "SwitchToPriceId 'price_license_test' is a one-time price of plan 'beat-license'; a subscription can switch only to a Month or Year price.")]
    public async Task CreatePortalSessionAsync_BadSwitchPrice_SaysWhy(string priceId, string message)
    {
        var (sut, _) = await Create();

        var act = () => sut.CreatePortalSessionAsync(new BillingPortalRequest { UserId = "user-42", ReturnUrl = ReturnUrl, SwitchToPriceId = priceId });

        await act.Should().ThrowAsync<InvalidPaymentRequestException>().WithMessage(message);
    }

    [Fact]
    public async Task CreatePortalSessionAsync_TenantOver255Characters_IsRefusedAndSendsNothing()
    {
        var (sut, handler) = await Create();

        var act = () => sut.CreatePortalSessionAsync(new BillingPortalRequest { UserId = "user-42", TenantId = new string('t', 256), ReturnUrl = ReturnUrl });

        (await act.Should().ThrowAsync<InvalidPaymentRequestException>().WithMessage("TenantId is 256 characters long; at most 255*")).Which.Field.Should().Be("TenantId");
        handler.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task CreatePortalSessionAsync_TenantWithALoneSurrogate_IsRefusedAndSendsNothing()
    {
        var (sut, handler) = await Create();

        var act = () => sut.CreatePortalSessionAsync(new BillingPortalRequest { UserId = "user-42", TenantId = "acme\uD83D", ReturnUrl = ReturnUrl });

        (await act.Should().ThrowAsync<InvalidPaymentRequestException>().WithMessage("TenantId holds an unpaired UTF-16 surrogate*")).Which.Field.Should().Be("TenantId");
        handler.Requests.Should().BeEmpty();
    }

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    public async Task CreatePortalSessionAsync_EmptyTenant_IsRefused_NotTakenForNoTenant(string tenantId)
    {
        var (sut, handler) = await Create();

        var act = () => sut.CreatePortalSessionAsync(new BillingPortalRequest { UserId = "user-42", TenantId = tenantId, ReturnUrl = ReturnUrl });

        var error = (await act.Should().ThrowAsync<InvalidPaymentRequestException>().WithMessage("TenantId is empty or blank: leave it null*")).Which;
        error.Field.Should().Be("TenantId");
        handler.Requests.Should().BeEmpty("an empty tenant would have searched for the user's customer without one");
    }

    [Fact]
    public async Task CreatePortalSessionAsync_BadReturnUrl_SaysWhy()
    {
        var (sut, _) = await Create();

        var act = () => sut.CreatePortalSessionAsync(new BillingPortalRequest { UserId = "user-42", ReturnUrl = "account" });

        await act.Should().ThrowAsync<InvalidPaymentRequestException>().WithMessage("ReturnUrl must be an absolute http(s) URL*");
    }

    [Fact]
    public async Task CreatePortalSessionAsync_UserWithoutCustomer_ThrowsInvalidOperationAfterSearching()
    {
        var (sut, handler) = await Create(storedCustomerId: null);
        handler.OnJson(HttpMethod.Get, "/v1/customers/search", StripeResponses.EmptySearch);

        var act = () => sut.CreatePortalSessionAsync(new BillingPortalRequest { UserId = "user-42", ReturnUrl = ReturnUrl });

        await act.Should().ThrowAsync<InvalidOperationException>().WithMessage("User 'user-42' has no Stripe customer yet*");
        handler.Requests.Should().ContainSingle().Which.Path.Should().Be("/v1/customers/search");
    }

    public static TheoryData<string> UnswitchableSubscriptions => new()
    {
        StripeResponses.List(),
        StripeResponses.List(StripeResponses.Subscription("sub_1", "canceled", ("si_1", "price_pro_month"))),
        StripeResponses.List(StripeResponses.Subscription("sub_1", "incomplete_expired", ("si_1", "price_pro_month"))),
        StripeResponses.List(StripeResponses.Subscription("sub_1", "active", ("si_1", "price_not_in_catalog"))),
        StripeResponses.List(StripeResponses.Subscription("sub_1", "active", ("si_1", "price_license_test"))),
    };

    [Theory]
    [MemberData(nameof(UnswitchableSubscriptions))]
    public async Task CreatePortalSessionAsync_NoSwitchableSubscription_ThrowsInvalidOperationWithoutOpeningASession(string subscriptions)
    {
        var (sut, handler) = await Create();
        handler.OnJson(HttpMethod.Get, "/v1/subscriptions", subscriptions);

        var act = () => sut.CreatePortalSessionAsync(new BillingPortalRequest { UserId = "user-42", ReturnUrl = ReturnUrl, SwitchToPriceId = "price_pro_year" });

        await act.Should().ThrowAsync<InvalidOperationException>()
            .WithMessage("User 'user-42' has no active subscription on a catalog plan to switch to 'price_pro_year'*");
        handler.Requests.Should().NotContain(r => r.Path == "/v1/billing_portal/sessions");
    }

    [Fact]
    public async Task CreatePortalSessionAsync_AlreadyOnTheTargetPrice_IsRefusedWithoutOpeningASession()
    {
        var (sut, handler) = await Create();
        handler.OnJson(HttpMethod.Get, "/v1/subscriptions", StripeResponses.List(StripeResponses.Subscription("sub_1", "active", ("si_1", "price_pro_year"))));

        var act = () => sut.CreatePortalSessionAsync(new BillingPortalRequest { UserId = "user-42", ReturnUrl = ReturnUrl, SwitchToPriceId = "price_pro_year" });

        var error = (await act.Should().ThrowAsync<InvalidPaymentRequestException>()).Which;
        error.Field.Should().Be("SwitchToPriceId");
        error.Message.Should().Contain("already on price 'price_pro_year'");
        handler.Requests.Should().NotContain(r => r.Path == "/v1/billing_portal/sessions");
    }

    [Fact]
    public async Task CreatePortalSessionAsync_PlanSwitch_ReplacesTheItemOfTheTargetsPlan_NotAnAddOnListedFirst()
    {
        var (sut, handler) = await Create(withStorageAddOn: true);
        handler.OnJson(HttpMethod.Get, "/v1/subscriptions", StripeResponses.List(
            StripeResponses.Subscription("sub_storage", "active", ("si_storage", "price_storage_month")),
            StripeResponses.Subscription("sub_pro", "active", ("si_pro", "price_pro_month"))));

        await sut.CreatePortalSessionAsync(new BillingPortalRequest { UserId = "user-42", ReturnUrl = ReturnUrl, SwitchToPriceId = "price_pro_year" });

        handler.Requests[1].Body.Should().Contain("[items][0][id]=si_pro&", "replacing the storage add-on with Pro yearly would bill Pro twice");
    }

    [Fact]
    public async Task CreatePortalSessionAsync_PlanSwitch_AnotherSubscriptionAlreadyOnTheTarget_IsRefused()
    {
        var (sut, handler) = await Create(withStorageAddOn: true);
        handler.OnJson(HttpMethod.Get, "/v1/subscriptions", StripeResponses.List(
            StripeResponses.Subscription("sub_storage", "active", ("si_storage", "price_storage_month")),
            StripeResponses.Subscription("sub_pro", "active", ("si_pro", "price_pro_year"))));

        var act = () => sut.CreatePortalSessionAsync(new BillingPortalRequest { UserId = "user-42", ReturnUrl = ReturnUrl, SwitchToPriceId = "price_pro_year" });

        (await act.Should().ThrowAsync<InvalidPaymentRequestException>()).Which.Message.Should().Contain("already on price 'price_pro_year'");
        handler.Requests.Should().NotContain(r => r.Path == "/v1/billing_portal/sessions");
    }

    [Fact]
    public async Task CreatePortalSessionAsync_PlanSwitch_ToAnotherPlanBesideAnAddOn_IsRefusedAsAmbiguous()
    {
        var (sut, handler) = await Create(withStorageAddOn: true);
        handler.OnJson(HttpMethod.Get, "/v1/subscriptions", StripeResponses.List(
            StripeResponses.Subscription("sub_storage", "active", ("si_storage", "price_storage_month")),
            StripeResponses.Subscription("sub_pro", "active", ("si_pro", "price_pro_month"))));

        var act = () => sut.CreatePortalSessionAsync(new BillingPortalRequest { UserId = "user-42", ReturnUrl = ReturnUrl, SwitchToPriceId = "price_team_month" });

        await act.Should().ThrowAsync<InvalidOperationException>().WithMessage("*si_storage on plan 'storage'*si_pro on plan 'pro'*ambiguous*");
        handler.Requests.Should().NotContain(r => r.Path == "/v1/billing_portal/sessions");
    }

    /// <summary>
    /// Stripe's portal cannot update a subscription with several items: <c>flow_data[subscription_update_confirm][items]</c>
    /// takes "only up to one [item] and subscriptions with multiple items are not updatable" (the API reference, in every
    /// official SDK). The switch must be refused here, as the ambiguous ones are, rather than sent for Stripe to refuse.
    /// </summary>
    [Theory]
    [InlineData("price_storage_month")]
    [InlineData("price_not_in_catalog")]
    public async Task CreatePortalSessionAsync_PlanSwitch_OfASubscriptionWithSeveralItems_IsRefusedWithoutOpeningASession(string addOnPrice)
    {
        var (sut, handler) = await Create(withStorageAddOn: true);
        handler.OnJson(HttpMethod.Get, "/v1/subscriptions", StripeResponses.List(
            StripeResponses.Subscription("sub_1", "active", ("si_pro", "price_pro_month"), ("si_addon", addOnPrice))));

        var act = () => sut.CreatePortalSessionAsync(new BillingPortalRequest { UserId = "user-42", ReturnUrl = ReturnUrl, SwitchToPriceId = "price_pro_year" });

        await act.Should().ThrowAsync<InvalidOperationException>().WithMessage("*sub_1*");
        handler.Requests.Should().NotContain(r => r.Path == "/v1/billing_portal/sessions");
    }

    [Fact]
    public async Task CreatePortalSessionAsync_NullRequest_ThrowsArgumentNull()
    {
        var (sut, handler) = await Create();

        await FluentActions.Awaiting(() => sut.CreatePortalSessionAsync(null!)).Should().ThrowAsync<ArgumentNullException>().WithParameterName("request");
        handler.Requests.Should().BeEmpty();
    }
}
