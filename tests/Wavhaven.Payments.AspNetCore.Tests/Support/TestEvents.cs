using System.Text.Json.Nodes;
using Wavhaven.Payments.Stripe;
using Wavhaven.Payments.Tests.Support;

namespace Wavhaven.Payments.AspNetCore.Tests.Support;

/// <summary>Stripe events built from Stripe's published example objects, as Stripe would send them.</summary>
public static class TestEvents
{
    private static int _sequence;

    public static string NewEventId() => "evt_test_" + Interlocked.Increment(ref _sequence).ToString("D6", System.Globalization.CultureInfo.InvariantCulture) + Guid.NewGuid().ToString("N")[..10];

    public static JsonObject Event(string type, JsonObject dataObject, string? id = null, JsonObject? previousAttributes = null, string? account = null, string apiVersion = StripeApiVersion.Current)
    {
        var envelope = StripeFixtures.Get("event");
        envelope["id"] = id ?? NewEventId();
        envelope["type"] = type;
        envelope["api_version"] = apiVersion;
        envelope["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var data = new JsonObject { ["object"] = dataObject };
        if (previousAttributes is not null)
        {
            data["previous_attributes"] = previousAttributes;
        }

        envelope["data"] = data;
        if (account is not null)
        {
            envelope["account"] = account;
        }

        return envelope;
    }

    public static JsonObject CheckoutSession(
        string sessionId,
        string paymentStatus = "paid",
        string fulfillmentType = "license",
        string userId = "user-1",
        bool guest = true,
        string email = "guest@example.com",
        string? customer = null,
        string mode = "payment",
        string? tenantId = null)
    {
        var session = StripeFixtures.Get("checkout.session");
        session["id"] = sessionId;
        session["status"] = "complete";
        session["mode"] = mode;
        session["payment_status"] = paymentStatus;
        session["client_reference_id"] = userId;
        session["customer"] = customer;
        session["customer_email"] = guest ? email : null;
        session["customer_details"]!["email"] = email;
        var metadata = new JsonObject
        {
            ["order_id"] = "1001",
            ["wavhaven_type"] = fulfillmentType,
            ["wavhaven_user_id"] = userId,
            ["wavhaven_buyer"] = guest ? "guest" : "registered",
        };
        if (tenantId is not null)
        {
            metadata["wavhaven_tenant_id"] = tenantId;
        }

        session["metadata"] = metadata;
        return session;
    }

    public static JsonObject Subscription(string subscriptionId, string priceId, string status = "active", bool cancelAtPeriodEnd = false, long periodEnd = 1_900_000_000, string userId = "user-1")
    {
        var subscription = StripeFixtures.Get("subscription");
        subscription["id"] = subscriptionId;
        subscription["status"] = status;
        subscription["cancel_at_period_end"] = cancelAtPeriodEnd;
        subscription["metadata"] = new JsonObject { ["wavhaven_user_id"] = userId, ["wavhaven_type"] = "pro" };
        var item = subscription["items"]!["data"]![0]!.AsObject();
        item["price"]!["id"] = priceId;
        item["current_period_end"] = periodEnd;
        item["subscription"] = subscriptionId;
        return subscription;
    }

    public static JsonObject Invoice(string invoiceId, string subscriptionId, string status = "paid", string userId = "user-1")
    {
        var invoice = StripeFixtures.Get("invoice");
        invoice["id"] = invoiceId;
        invoice["status"] = status;
        invoice["parent"] = new JsonObject
        {
            ["type"] = "subscription_details",
            ["subscription_details"] = new JsonObject { ["subscription"] = subscriptionId, ["metadata"] = new JsonObject { ["wavhaven_user_id"] = userId } },
        };
        return invoice;
    }
}
