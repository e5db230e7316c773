using System.Net;
using Wavhaven.Payments.Testing.Tests.Support;

namespace Wavhaven.Payments.Testing.Tests.Api;

public sealed class CustomerApiTests : EmulatorTest
{
    [Fact]
    public async Task Create_AnswersStripeShapedCustomerAndEmitsCustomerCreated()
    {
        var customer = await Stripe.PostOkAsync("/v1/customers", "email=jane%40example.com&name=Jane%20Doe&metadata[user_id]=42");

        ((string)customer["id"]!).Should().MatchRegex("^cus_[A-Za-z0-9]{24}$");
        ((string)customer["object"]!).Should().Be("customer");
        ((string)customer["email"]!).Should().Be("jane@example.com");
        ((string)customer["name"]!).Should().Be("Jane Doe");
        ((string)customer["metadata"]!["user_id"]!).Should().Be("42");
        ((bool)customer["livemode"]!).Should().BeFalse();
        var created = LastEvent("customer.created").ToJsonObject();
        ((string)created["data"]!["object"]!["id"]!).Should().Be((string)customer["id"]!);
        created["request"]!["id"].Should().NotBeNull();
    }

    [Fact]
    public async Task Update_ChangesFieldsAndUnsetsEmptyMetadata()
    {
        var id = (string)(await Stripe.PostOkAsync("/v1/customers", "email=a%40example.com&metadata[a]=1&metadata[b]=2"))["id"]!;

        var updated = await Stripe.PostOkAsync("/v1/customers/" + id, "name=Ann&metadata[a]=");

        ((string)updated["name"]!).Should().Be("Ann");
        updated["metadata"]!.AsObject().Select(pair => pair.Key).Should().Equal("b");
        var previous = LastEvent("customer.updated").ToJsonObject()["data"]!["previous_attributes"]!;
        previous["name"].Should().BeNull();
        ((string)previous["metadata"]!["a"]!).Should().Be("1");
    }

    [Fact]
    public async Task ListByEmail_IsExactAndCaseSensitive()
    {
        await Stripe.PostOkAsync("/v1/customers", "email=jane%40example.com");
        await Stripe.PostOkAsync("/v1/customers", "email=Jane%40example.com");

        var list = await Stripe.GetOkAsync("/v1/customers?email=jane%40example.com");

        list["data"]!.AsArray().Should().ContainSingle();
        ((string)list["object"]!).Should().Be("list");
    }

    [Fact]
    public async Task List_PagesNewestFirstWithStartingAfter()
    {
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add((string)(await Stripe.PostOkAsync("/v1/customers", "name=c" + i))["id"]!);
        }

        var first = await Stripe.GetOkAsync("/v1/customers?limit=2");
        var second = await Stripe.GetOkAsync("/v1/customers?limit=2&starting_after=" + (string)first["data"]![1]!["id"]!);

        first["data"]!.AsArray().Select(c => (string)c!["id"]!).Should().Equal(ids[2], ids[1]);
        ((bool)first["has_more"]!).Should().BeTrue();
        second["data"]!.AsArray().Select(c => (string)c!["id"]!).Should().Equal(ids[0]);
        ((bool)second["has_more"]!).Should().BeFalse();
    }

    [Fact]
    public async Task Search_ByMetadataAndTenant_FindsOnlyTheMatch()
    {
        await Stripe.PostOkAsync("/v1/customers", "metadata[wavhaven_user_id]=42&metadata[wavhaven_tenant_id]=acme");
        var wanted = await Stripe.PostOkAsync("/v1/customers", "metadata[wavhaven_user_id]=42&metadata[wavhaven_tenant_id]=globex");
        await Stripe.PostOkAsync("/v1/customers", "metadata[wavhaven_user_id]=43&metadata[wavhaven_tenant_id]=globex");

        var query = Uri.EscapeDataString("metadata['wavhaven_user_id']:'42' AND metadata['wavhaven_tenant_id']:'globex'");
        var result = await Stripe.GetOkAsync("/v1/customers/search?query=" + query);

        ((string)result["object"]!).Should().Be("search_result");
        result["data"]!.AsArray().Select(c => (string)c!["id"]!).Should().Equal((string)wanted["id"]!);
        ((bool)result["has_more"]!).Should().BeFalse();
        result["next_page"].Should().BeNull();
        ((string)result["url"]!).Should().Be("/v1/customers/search");
    }

    [Fact]
    public async Task Search_HonoursEscapedQuotes()
    {
        var id = (string)(await Stripe.PostOkAsync("/v1/customers", "name=" + Uri.EscapeDataString("O'Brien")))["id"]!;
        await Stripe.PostOkAsync("/v1/customers", "name=OBrien");

        var result = await Stripe.GetOkAsync("/v1/customers/search?query=" + Uri.EscapeDataString("name:'O\\'Brien'"));

        result["data"]!.AsArray().Select(c => (string)c!["id"]!).Should().Equal(id);
    }

    [Fact]
    public async Task Search_UnknownField_Is400OnQuery()
    {
        var answer = await Stripe.GetAsync("/v1/customers/search?query=" + Uri.EscapeDataString("colour:'red'"));

        answer.Status.Should().Be(HttpStatusCode.BadRequest);
        answer.Error["param"]!.GetValue<string>().Should().Be("query");
    }

    [Fact]
    public async Task Search_PagesWithNextPage()
    {
        for (var i = 0; i < 3; i++)
        {
            await Stripe.PostOkAsync("/v1/customers", "email=same%40example.com");
        }

        var first = await Stripe.GetOkAsync("/v1/customers/search?limit=2&query=" + Uri.EscapeDataString("email:'same@example.com'"));
        var second = await Stripe.GetOkAsync("/v1/customers/search?limit=2&page=" + Uri.EscapeDataString((string)first["next_page"]!) + "&query=" + Uri.EscapeDataString("email:'same@example.com'"));

        first["data"]!.AsArray().Should().HaveCount(2);
        ((bool)first["has_more"]!).Should().BeTrue();
        second["data"]!.AsArray().Should().ContainSingle();
    }
}
