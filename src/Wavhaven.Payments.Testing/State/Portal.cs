using System.Text.Json.Nodes;

namespace Wavhaven.Payments.Testing.State;

/// <summary>A billing portal session, optionally opened on the confirmation of a plan switch.</summary>
internal sealed class PortalSession(string id, DateTimeOffset created, string customerId) : Entity(id, created)
{
    public override string ObjectName => "billing_portal.session";

    public string CustomerId { get; } = customerId;

    public string? ReturnUrl { get; init; }

    public string? Locale { get; init; }

    /// <summary>Gets the flow type (only <c>subscription_update_confirm</c> is shown specially), or <see langword="null"/>.</summary>
    public string? FlowType { get; init; }

    public string? FlowSubscriptionId { get; init; }

    public string? FlowItemId { get; init; }

    public string? FlowPriceId { get; init; }

    public long? FlowQuantity { get; init; }

    public string? AfterCompletionType { get; init; }

    public string? AfterCompletionReturnUrl { get; init; }

    /// <summary>Gets or sets a note the page shows after an action (when no return URL is set).</summary>
    public string? Notice { get; set; }

    /// <summary>Gets where to send the customer after a completed action.</summary>
    public string? RedirectAfterAction => AfterCompletionType == "redirect" && AfterCompletionReturnUrl is not null ? AfterCompletionReturnUrl : ReturnUrl;

    public Uri Url(EmulatorStore store) => new(store.BaseUrl, "billing/portal/" + Id);

    public override JsonObject ToJson(EmulatorStore store) => new()
    {
        ["id"] = Id,
        ["object"] = ObjectName,
        ["configuration"] = "bpc_emulator",
        ["created"] = Created.Unix(),
        ["customer"] = CustomerId,
        ["customer_account"] = null,
        ["flow"] = FlowType is null
            ? null
            : new JsonObject
            {
                ["after_completion"] = new JsonObject
                {
                    ["hosted_confirmation"] = AfterCompletionType == "hosted_confirmation" ? new JsonObject { ["custom_message"] = null } : null,
                    ["redirect"] = AfterCompletionType == "redirect" ? new JsonObject { ["return_url"] = AfterCompletionReturnUrl } : null,
                    ["type"] = AfterCompletionType ?? "portal_homepage",
                },
                ["subscription_cancel"] = null,
                ["subscription_update"] = null,
                ["subscription_update_confirm"] = FlowType == "subscription_update_confirm"
                    ? new JsonObject
                    {
                        ["discounts"] = new JsonArray(),
                        ["items"] = new JsonArray(new JsonObject { ["id"] = FlowItemId, ["price"] = FlowPriceId, ["quantity"] = FlowQuantity }),
                        ["subscription"] = FlowSubscriptionId,
                    }
                    : null,
                ["type"] = FlowType,
            },
        ["livemode"] = false,
        ["locale"] = Locale,
        ["on_behalf_of"] = null,
        ["return_url"] = ReturnUrl,
        ["url"] = Url(store).ToString(),
    };
}

/// <summary>A webhook endpoint: from the options, <c>AddWebhookEndpoint</c>, or <c>POST /v1/webhook_endpoints</c>.</summary>
internal sealed class WebhookEndpoint(string id, DateTimeOffset created, Uri url, string secret) : Entity(id, created)
{
    public override string ObjectName => "webhook_endpoint";

    public Uri Url { get; } = url;

    public string Secret { get; } = secret;

    public IReadOnlyList<string> EnabledEvents { get; init; } = ["*"];

    public string ApiVersion { get; init; } = Stripe.StripeApiVersion.Current;

    public string? Description { get; init; }

    public Dictionary<string, string> Metadata { get; init; } = new(StringComparer.Ordinal);

    public bool Deleted { get; set; }

    /// <summary>Gets or sets whether the endpoint was created without an <c>api_version</c>: it reads null, and follows the account's default.</summary>
    public bool FollowsAccountDefault { get; set; }

    public bool Receives(string eventType) =>
        !Deleted && EnabledEvents.Any(enabled => enabled == "*" || string.Equals(enabled, eventType, StringComparison.Ordinal));

    public override JsonObject ToJson(EmulatorStore store) => new()
    {
        ["id"] = Id,
        ["object"] = ObjectName,
        ["api_version"] = FollowsAccountDefault ? null : ApiVersion,
        ["application"] = null,
        ["created"] = Created.Unix(),
        ["description"] = Description,
        ["enabled_events"] = Json.Strings(EnabledEvents),
        ["livemode"] = false,
        ["metadata"] = Json.Metadata(Metadata),
        ["status"] = "enabled",
        ["url"] = Url.ToString(),
    };
}
