namespace Wavhaven.Payments;

/// <summary>
/// The metadata keys the library writes on Stripe objects to route later events. Keys starting with
/// <see cref="ReservedPrefix"/> are reserved: a checkout request may not set them.
/// </summary>
public static class MetadataKeys
{
    /// <summary>The prefix of every key the library writes.</summary>
    public const string ReservedPrefix = "wavhaven_";

    /// <summary>The fulfillment type of a checkout, which picks the fulfillment handler.</summary>
    public const string FulfillmentType = "wavhaven_type";

    /// <summary>The app's user id of the buyer (guest or registered).</summary>
    public const string UserId = "wavhaven_user_id";

    /// <summary>The app's tenant id, when the app has tenants.</summary>
    public const string TenantId = "wavhaven_tenant_id";

    /// <summary><c>guest</c> or <c>registered</c>.</summary>
    public const string Buyer = "wavhaven_buyer";
}
