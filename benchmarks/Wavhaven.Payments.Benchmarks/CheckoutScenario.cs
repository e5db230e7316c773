using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Wavhaven.Payments.Catalog;
using Wavhaven.Payments.Checkout;

namespace Wavhaven.Payments.Benchmarks;

/// <summary>The checkout the Stripe-client benchmarks create: a guest cart of 10 lines (2 catalog plans, 8 priced items).</summary>
internal static class CheckoutScenario
{
    public const string SecretKey = "sk_test_benchmark";

    public static CheckoutRequest Request { get; } = new()
    {
        Buyer = CheckoutBuyer.Guest("jane.doe+beats@example.com", userId: "order-100234"),
        Lines =
        [
            CheckoutLine.ForPlan("beat-license", quantity: 2),
            CheckoutLine.ForPlan("stem-pack"),
            .. Enumerable.Range(1, 8).Select(i => CheckoutLine.Item(
                $"Sample pack #{i} (WAV, 24-bit)",
                unitAmount: 499 + (i * 100),
                currency: "usd",
                quantity: i % 3 + 1,
                productMetadata: new Dictionary<string, string> { ["sku"] = $"SP-{i:D4}", ["genre"] = "lo-fi & chill" })),
        ],
        FulfillmentType = "license",
        Metadata = new Dictionary<string, string> { ["order_id"] = "100234", ["campaign"] = "black-friday 2026" },
        AllowPromotionCodes = true,
    };

    public static void Configure(StripePaymentsOptions options)
    {
        options.SecretKey = SecretKey;
        options.SuccessUrl = "https://shop.example/checkout/success";
        options.CancelUrl = "https://shop.example/cart";
        options.Plans.Add(Plan("beat-license", "price_1QbeatLicenseTest00000000", 2900));
        options.Plans.Add(Plan("stem-pack", "price_1QstemPackTest000000000", 4900));
    }

    /// <summary>Stripe's answer to the checkout: the benchmark payload's session, still open and unpaid (3.2 KB).</summary>
    public static byte[] OpenSession()
    {
        var session = JsonNode.Parse(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "payloads", "checkout.session.completed.json")))!["data"]!["object"]!.AsObject();
        session["status"] = "open";
        session["payment_status"] = "unpaid";
        return Encoding.UTF8.GetBytes(session.ToJsonString());
    }

    /// <summary>
    /// The baseline: what an app could write by hand, <paramref name="body"/> already encoded, the headers the library
    /// sends, and the answer read as bytes.
    /// </summary>
    public static async Task<byte[]> RawPostAsync(HttpClient client, Uri endpoint, byte[] body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-www-form-urlencoded");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", SecretKey);
        request.Headers.TryAddWithoutValidation("Stripe-Version", Stripe.StripeApiVersion.Current);
        request.Headers.TryAddWithoutValidation("Idempotency-Key", "wavhaven-checkout-" + Guid.NewGuid().ToString("N"));
        using var response = await client.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsByteArrayAsync();
    }

    /// <summary>
    /// The library's service graph, with its Stripe client pointed at <paramref name="apiBaseUrl"/> and its
    /// <see cref="HttpClient"/> further configured by <paramref name="client"/>.
    /// </summary>
    public static ServiceProvider Services(Uri? apiBaseUrl = null, Action<IHttpClientBuilder>? client = null)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddStripePayments(options =>
        {
            Configure(options);
            if (apiBaseUrl is not null)
            {
                options.ApiBaseUrl = apiBaseUrl;
            }
        });
        client?.Invoke(services.AddHttpClient(Stripe.StripeHttpClient.HttpClientName));
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
    }

    private static PlanOptions Plan(string id, string priceId, long amount) => new()
    {
        Id = id,
        BillingType = BillingType.OneTime,
        Prices = { new PlanPriceOptions { Interval = PriceInterval.OneTime, TestPriceId = priceId, Amount = amount, Currency = "usd" } },
    };
}
