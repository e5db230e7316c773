using System.Text.Json.Nodes;

namespace Wavhaven.Payments.Tests.Support;

/// <summary>Small Stripe answers for the stub, shaped as the pinned API version returns them.</summary>
public static class StripeResponses
{
    public const string EmptySearch = """{"object":"search_result","data":[],"has_more":false,"next_page":null}""";

    public static string CheckoutSession(string id, long expiresAt = 1767312000) =>
        new JsonObject
        {
            ["id"] = id,
            ["object"] = "checkout.session",
            ["status"] = "open",
            ["url"] = "https://checkout.stripe.com/c/pay/" + id,
            ["expires_at"] = expiresAt,
        }.ToJsonString();

    public static JsonObject Customer(string id, string? userId = null, string? tenantId = null, long created = 1767225600, bool deleted = false)
    {
        var metadata = new JsonObject();
        if (userId is not null)
        {
            metadata["wavhaven_user_id"] = userId;
        }

        if (tenantId is not null)
        {
            metadata["wavhaven_tenant_id"] = tenantId;
        }

        var customer = new JsonObject { ["id"] = id, ["object"] = "customer", ["created"] = created, ["metadata"] = metadata };
        if (deleted)
        {
            customer["deleted"] = true;
        }

        return customer;
    }

    public static string CustomerJson(string id, string? userId = null, string? tenantId = null) => Customer(id, userId, tenantId).ToJsonString();

    public static string Search(params JsonObject[] customers) =>
        new JsonObject
        {
            ["object"] = "search_result",
            ["data"] = new JsonArray([.. customers]),
            ["has_more"] = false,
            ["next_page"] = null,
        }.ToJsonString();

    public static JsonObject Subscription(string id, string status, params (string ItemId, string PriceId)[] items) =>
        new()
        {
            ["id"] = id,
            ["object"] = "subscription",
            ["status"] = status,
            ["items"] = new JsonObject
            {
                ["object"] = "list",
                ["data"] = new JsonArray([.. items.Select(item => (JsonNode)new JsonObject
                {
                    ["id"] = item.ItemId,
                    ["object"] = "subscription_item",
                    ["price"] = new JsonObject { ["id"] = item.PriceId, ["object"] = "price" },
                    ["quantity"] = 1,
                })]),
                ["has_more"] = false,
            },
        };

    public static string List(params JsonObject[] items) =>
        new JsonObject
        {
            ["object"] = "list",
            ["data"] = new JsonArray([.. items]),
            ["has_more"] = false,
            ["url"] = "/v1/subscriptions",
        }.ToJsonString();

    public static string PortalSession(string id) =>
        new JsonObject
        {
            ["id"] = id,
            ["object"] = "billing_portal.session",
            ["url"] = "https://billing.stripe.com/p/session/" + id,
        }.ToJsonString();
}
