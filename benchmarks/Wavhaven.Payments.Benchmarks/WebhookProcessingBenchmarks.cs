using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.Benchmarks;

/// <summary>
/// One delivery through the real <see cref="IWebhookProcessor"/> (the library's DI graph, the in-memory event store,
/// a no-op fulfillment handler): verify the signature, read the envelope, claim the event, dispatch, claim the
/// purchase, run the handler, record both. The floor is the HMAC of the same bytes.
/// </summary>
/// <remarks>
/// Every measured operation is a new event of a new purchase, never a duplicate: each iteration runs exactly
/// <see cref="Operations"/> invocations (BenchmarkDotNet's jitting stage, fewer) over as many distinct events (ids <c>evt_test_bench_{n}</c>, sessions
/// <c>cs_test_bench_{n}</c>), and the iteration's setup (not measured) builds a fresh service provider, so a fresh
/// store, in which these events are new again; their signatures are made when they near the tolerance. The iteration's cleanup checks that the handler ran once
/// per invocation, and fails the run otherwise. (Operations is large so that the floor's iterations, which share the
/// class's invocation count, last over 100 ms.) The fresh store grows from empty through each iteration; the case
/// "into a store at its capacity" keeps one store for the run, full and pruning as a running endpoint's is, and gives
/// each iteration the next batch of new events.
/// </remarks>
[InvocationCount(Operations)]
public class WebhookProcessingBenchmarks : HmacFloorBenchmarks
{
    public const int Operations = 32_768;

    private readonly byte[][] _bodies = new byte[Operations][];
    private readonly string[] _headers = new string[Operations];
    private readonly byte[][] _signedBodies = new byte[Operations][];
    private readonly byte[] _floorHash = new byte[32];
    private int _floorNext;
    private readonly byte[][] _fullStoreBodies = new byte[Operations][];
    private readonly string[] _fullStoreHeaders = new string[Operations];
    private FullStore? _fullStore;
    private ServiceProvider? _services;
    private IWebhookProcessor? _processor;
    private ServiceProvider? _readingServices;
    private IWebhookProcessor? _readingProcessor;
    private int _next;
    private DateTimeOffset _signedAt = DateTimeOffset.MinValue;
    private long _fulfilledBefore;

    [GlobalSetup]
    public void Setup()
    {
        var now = DateTimeOffset.UtcNow;
        for (var i = 0; i < Operations; i++)
        {
            _bodies[i] = Payloads.CheckoutCompleted(i);
            _signedBodies[i] = Payloads.Signed(_bodies[i], now);
            _fullStoreBodies[i] = (byte[])_bodies[i].Clone();
        }

        SetUpFloors(_bodies[0], now);
    }

    [IterationSetup(Targets = [nameof(VerifyParseClaimDispatch), nameof(VerifyParseClaimDispatchToSessionReader)])]
    public void NewStoreAndValidSignatures()
    {
        _services?.Dispose();
        _readingServices?.Dispose();
        _services = Build<NoOpFulfillmentHandler>();
        _processor = _services.GetRequiredService<IWebhookProcessor>();
        _readingServices = Build<SessionReadingFulfillmentHandler>();
        _readingProcessor = _readingServices.GetRequiredService<IWebhookProcessor>();

        // The signatures are made again only when they near the 5-minute tolerance (a run takes about a minute): signing
        // 32,768 headers per iteration made garbage that the measured deliveries' collections then had to promote.
        var now = DateTimeOffset.UtcNow;
        if (now - _signedAt > TimeSpan.FromMinutes(3))
        {
            Payloads.Sign(_bodies, _headers, now);

            _signedAt = now;
        }

        _next = 0;
        _fulfilledBefore = NoOpFulfillmentHandler.Fulfilled;
    }

    /// <summary>
    /// For the full-store case: one store for the whole run, filled to its capacity once; each iteration's events are
    /// the next batch of new ones, signed anew (BenchmarkDotNet collects the garbage before it starts the clock).
    /// </summary>
    [IterationSetup(Target = nameof(VerifyParseClaimDispatchIntoAFullStore))]
    public void NextBatchIntoTheFullStore()
    {
        _fullStore ??= new FullStore();
        _fullStore.NextBatch(_fullStoreBodies, _fullStoreHeaders, DateTimeOffset.UtcNow);
        _next = 0;
        _fulfilledBefore = NoOpFulfillmentHandler.Fulfilled;
    }

    [IterationCleanup(Targets = [nameof(VerifyParseClaimDispatch), nameof(VerifyParseClaimDispatchToSessionReader), nameof(VerifyParseClaimDispatchIntoAFullStore)])]
    public void CheckEveryDeliveryWasHandled()
    {
        var fulfilled = NoOpFulfillmentHandler.Fulfilled - _fulfilledBefore;
        if (fulfilled != _next)
        {
            throw new InvalidOperationException($"{_next} deliveries fulfilled {fulfilled} purchases; each must fulfil one.");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _services?.Dispose();
        _readingServices?.Dispose();
        _fullStore?.Dispose();
        CleanUpFloors();
    }

    /// <summary>
    /// The floor over each delivery's own bytes, in the deliveries' order. The deliveries read 32,768 distinct bodies
    /// (110 MB, so each comes from memory, not the cache); the baseline hashes one buffer that stays in the cache.
    /// </summary>
    [Benchmark(Description = "HMACSHA256.HashData over each delivery's {t}.{body} (floor, the deliveries' bytes)")]
    public byte[] HmacFloorOverEachDelivery()
    {
        var i = _floorNext;
        _floorNext = (i + 1) & (Operations - 1);
        HMACSHA256.HashData(Key, _signedBodies[i], _floorHash);
        return _floorHash;
    }

    [Benchmark(Description = "ProcessAsync: verify+parse+claim+dispatch")]
    public Task<WebhookResult> VerifyParseClaimDispatch()
    {
        var i = _next++;
        return _processor!.ProcessAsync(_bodies[i], _headers[i]);
    }

    /// <summary>
    /// The same into a store in a running endpoint's state: at its capacity, pruning, its memory grown once (see
    /// <see cref="FullStore"/>). The fresh store above grows from empty through each iteration.
    /// </summary>
    [Benchmark(Description = "same, into a store at its capacity (200,000 ids)")]
    public Task<WebhookResult> VerifyParseClaimDispatchIntoAFullStore()
    {
        var i = _next++;
        return _fullStore!.Processor.ProcessAsync(_fullStoreBodies[i], _fullStoreHeaders[i]);
    }

    /// <summary>The same, with a handler that reads the session's metadata and email, so the session gets deserialized.</summary>
    [Benchmark(Description = "same, handler reads the session")]
    public Task<WebhookResult> VerifyParseClaimDispatchToSessionReader()
    {
        var i = _next++;
        return _readingProcessor!.ProcessAsync(_bodies[i], _headers[i]);
    }

    /// <summary>The library's DI graph as an app builds it: logging without providers, the in-memory store, one handler.</summary>
    internal static ServiceProvider Build<THandler>()
        where THandler : class, Fulfillment.IFulfillmentHandler
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddStripePayments(options =>
        {
            options.SecretKey = "sk_test_benchmark";
            options.WebhookSecrets.Add(Payloads.Secret);
        }).AddFulfillmentHandler<THandler>();
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
    }
}
