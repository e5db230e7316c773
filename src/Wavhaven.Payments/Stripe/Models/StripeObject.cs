using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Wavhaven.Payments.Stripe;

/// <summary>
/// The base of the Stripe objects the library reads, as Stripe sent them. Fields the library does not
/// model are kept, as JSON, in <see cref="ExtensionData"/>.
/// </summary>
public abstract class StripeObject
{
    private IDictionary<string, JsonElement>? _extensionData;
    private DeferredSource? _deferred;

    /// <summary>Gets the object's id, e.g. <c>cs_test_…</c>, <c>cus_…</c>, <c>sub_…</c>.</summary>
    public string Id { get; set; } = string.Empty;

    /// <summary>Gets the object's type as Stripe names it, e.g. <c>checkout.session</c>.</summary>
    public string? Object { get; set; }

    /// <summary>
    /// Gets whether Stripe answered with the stored answer of an earlier request with the same idempotency key
    /// (<c>Idempotent-Replayed: true</c>): the object as it was then, which may have changed or gone since.
    /// </summary>
    internal bool Replayed { get; set; }

    /// <summary>Gets every field of the object that has no property of its own here, as raw JSON.</summary>
    /// <remarks>
    /// The objects the library reads from webhooks and API answers keep their JSON and fill this in on first use:
    /// each unmodelled field costs a JSON document of its own, which most readers never look at.
    /// </remarks>
    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData
    {
        get
        {
            // One reference holds both the JSON and its contract, so that concurrent readers see both or neither.
            if (Volatile.Read(ref _deferred) is { } deferred)
            {
                var full = (StripeObject?)JsonSerializer.Deserialize(deferred.Json.Span, deferred.TypeInfo);
                Interlocked.CompareExchange(ref _extensionData, full?._extensionData, null);
                Volatile.Write(ref _deferred, null);
            }

            return _extensionData;
        }

        set
        {
            Volatile.Write(ref _deferred, null);
            _extensionData = value;
        }
    }

    /// <summary>
    /// Records where <see cref="ExtensionData"/> comes from, for an object read without it: <paramref name="json"/>
    /// (this object's JSON, which must not change afterwards) read with <paramref name="fullTypeInfo"/>.
    /// </summary>
    internal void DeferExtensionData(ReadOnlyMemory<byte> json, JsonTypeInfo fullTypeInfo)
    {
        _extensionData = null;
        _deferred = new DeferredSource(json, fullTypeInfo);
    }

    private sealed record DeferredSource(ReadOnlyMemory<byte> Json, JsonTypeInfo TypeInfo);
}

/// <summary>A page of a Stripe list (<c>object: "list"</c>).</summary>
/// <typeparam name="T">The listed object.</typeparam>
public sealed class StripeList<T>
{
    /// <summary>Gets the objects on this page.</summary>
    public IReadOnlyList<T> Data { get; set; } = [];

    /// <summary>Gets whether more objects follow; fetch them with <c>starting_after</c> = the last id.</summary>
    public bool HasMore { get; set; }

    /// <summary>Gets the list's API path.</summary>
    public string? Url { get; set; }
}

/// <summary>A page of a Stripe search (<c>object: "search_result"</c>).</summary>
/// <typeparam name="T">The found object.</typeparam>
public sealed class StripeSearchResult<T>
{
    /// <summary>Gets the objects on this page.</summary>
    public IReadOnlyList<T> Data { get; set; } = [];

    /// <summary>Gets whether more results follow; fetch them with <c>page</c> = <see cref="NextPage"/>.</summary>
    public bool HasMore { get; set; }

    /// <summary>Gets the cursor of the next page.</summary>
    public string? NextPage { get; set; }
}
