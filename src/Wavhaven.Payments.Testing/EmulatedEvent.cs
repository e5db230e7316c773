using System.Text.Json.Nodes;

namespace Wavhaven.Payments.Testing;

/// <summary>An event the emulator emitted, as Stripe would list it.</summary>
public sealed class EmulatedEvent
{
    internal EmulatedEvent(string id, string type, DateTimeOffset created, string json)
    {
        Id = id;
        Type = type;
        Created = created;
        Json = json;
    }

    /// <summary>Gets the event id (<c>evt_…</c>).</summary>
    public string Id { get; }

    /// <summary>Gets the event type, e.g. <c>checkout.session.completed</c>.</summary>
    public string Type { get; }

    /// <summary>Gets when the event was emitted, on the emulator's clock.</summary>
    public DateTimeOffset Created { get; }

    /// <summary>Gets the event as JSON, at the pinned API version, as it was at emission.</summary>
    public string Json { get; }

    /// <summary>Parses <see cref="Json"/> into a new, independent JSON object.</summary>
    public JsonObject ToJsonObject() => JsonNode.Parse(Json)!.AsObject();

    /// <summary>Gets a copy of the event's <c>data.object</c>: the resource as it was at emission.</summary>
    public JsonObject DataObject() => ToJsonObject()["data"]!["object"]!.AsObject();

    /// <inheritdoc />
    public override string ToString() => Id + " " + Type;
}

/// <summary>One attempt to deliver an event to a webhook endpoint.</summary>
/// <param name="EventId">The event's id.</param>
/// <param name="EventType">The event's type.</param>
/// <param name="Endpoint">The endpoint's URL.</param>
/// <param name="Attempt">The attempt's number, from 1.</param>
/// <param name="StatusCode">The HTTP status the endpoint answered with, or <see langword="null"/> when it could not be reached.</param>
/// <param name="Error">Why the attempt failed without an answer (connection refused, timeout), or <see langword="null"/>.</param>
/// <param name="Time">When the attempt was made, on the emulator's clock.</param>
public sealed record WebhookDelivery(string EventId, string EventType, Uri Endpoint, int Attempt, int? StatusCode, string? Error, DateTimeOffset Time)
{
    /// <summary>Gets whether the endpoint answered with a 2xx status.</summary>
    public bool Succeeded => StatusCode is >= 200 and < 300;
}

/// <summary>How the buyer pays on the emulator's hosted Checkout page.</summary>
public enum EmulatedPayment
{
    /// <summary>The card is charged: the session completes as paid.</summary>
    Succeeds,

    /// <summary>The card is declined: the page shows "Your card was declined." and the session stays open and unpaid.</summary>
    Declined,

    /// <summary>
    /// A bank debit that settles later: the session completes with <c>payment_status</c> <c>unpaid</c> until
    /// <see cref="StripeEmulator.SettleAsyncPaymentAsync"/> settles it.
    /// </summary>
    DelayedBankDebit,
}
