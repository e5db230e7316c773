// The .NET side of benchmarks/webhook-load: one app, two modes, started by run.sh on loopback.
//   library  POST /webhook is MapStripeWebhook: the library's endpoint, in-memory event store, a no-op fulfillment handler.
//   bare     POST /webhook reads the body and answers 200: the ceiling of ASP.NET Core on this machine.
// Both: GET /stats answers how many deliveries were handled (library: fulfilled purchases), so that run.sh can
// check that every request was a new event handled in full, not a duplicate. Logging is off in both, so that
// neither measures the console.
using System.Buffers;
using System.IO.Pipelines;
using Wavhaven.Payments.Fulfillment;

if (args.Length != 2 || args[0] is not ("library" or "bare"))
{
    Console.Error.WriteLine("usage: WebhookLoadTarget library|bare http://127.0.0.1:PORT   (the signing secret in WEBHOOK_SECRET)");
    return 2;
}

var mode = args[0];
var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.UseUrls(args[1]);
if (mode == "library")
{
    var secret = Environment.GetEnvironmentVariable("WEBHOOK_SECRET")
        ?? throw new InvalidOperationException("Set WEBHOOK_SECRET to the whsec_… the payloads were signed with.");
    builder.Services.AddStripePayments(options =>
    {
        options.SecretKey = "sk_test_webhook_load";
        options.WebhookSecrets.Add(secret);
    }).AddFulfillmentHandler<NoOpFulfillmentHandler>();

    // STORE_CAPACITY overrides how many ids the in-memory store keeps (default 200,000), to see what its size costs.
    if (Environment.GetEnvironmentVariable("STORE_CAPACITY") is { } capacity)
    {
        builder.Services.Configure<Wavhaven.Payments.Webhooks.InMemoryWebhookEventStoreOptions>(
            options => options.Capacity = int.Parse(capacity, System.Globalization.CultureInfo.InvariantCulture));
    }
}

var app = builder.Build();
if (mode == "library")
{
    app.MapStripeWebhook("/webhook");
    app.MapGet("/stats", () => NoOpFulfillmentHandler.Fulfilled.ToString(System.Globalization.CultureInfo.InvariantCulture));
}
else
{
    long received = 0;
    app.MapPost("/webhook", async context =>
    {
        var reader = context.Request.BodyReader;
        while (true)
        {
            var read = await reader.ReadAsync(context.RequestAborted);
            reader.AdvanceTo(read.Buffer.End);
            if (read.IsCompleted)
            {
                break;
            }
        }

        Interlocked.Increment(ref received);
        context.Response.StatusCode = StatusCodes.Status200OK;
    });
    app.MapGet("/stats", () => Interlocked.Read(ref received).ToString(System.Globalization.CultureInfo.InvariantCulture));
}

await app.RunAsync();
return 0;

/// <summary>Does nothing but count: the purchase is "fulfilled".</summary>
public sealed class NoOpFulfillmentHandler : IFulfillmentHandler
{
    private static long _fulfilled;

    public static long Fulfilled => Interlocked.Read(ref _fulfilled);

    public string Type => "license";

    public Task FulfillAsync(FulfillmentContext context, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _fulfilled);
        return Task.CompletedTask;
    }
}
