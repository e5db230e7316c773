using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using Wavhaven.Payments.Checkout;
using Wavhaven.Payments.Stripe;

namespace Wavhaven.Payments.Benchmarks;

/// <summary>
/// The checkout's two cases without the network: the library's <see cref="ICheckoutService.CreateCheckoutAsync"/> and
/// a raw <see cref="HttpClient"/> POST of the library's body, both over one in-process handler that answers with the
/// same 3 KB session, at once or (with <c>answerAsynchronously</c>) after yielding to the thread pool, so that every
/// <see langword="await"/> between the caller and the handler suspends as it does over a socket.
/// </summary>
internal sealed class InProcessCheckout : IDisposable
{
    private static readonly Uri Endpoint = new("https://api.stripe.com/v1/checkout/sessions");

    private readonly ServiceProvider _services;
    private readonly ICheckoutService _checkout;
    private readonly HttpClient _raw;
    private readonly byte[] _body;

    public InProcessCheckout(bool answerAsynchronously = false)
    {
        var handler = new AnsweringHandler(CheckoutScenario.OpenSession(), answerAsynchronously);
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddStripePayments(CheckoutScenario.Configure);
        services.AddHttpClient(StripeHttpClient.HttpClientName).ConfigurePrimaryHttpMessageHandler(() => handler);
        _services = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
        _checkout = _services.CreateScope().ServiceProvider.GetRequiredService<ICheckoutService>();
        var plan = ((CheckoutService)_checkout).Validate(CheckoutScenario.Request);
        _body = StripeFormWriter.EncodeToUtf8(new CheckoutSessionParameters(CheckoutScenario.Request, plan, customerId: null));
        _raw = new HttpClient(handler, disposeHandler: false);
    }

    /// <summary>The baseline: the library's body, posted by hand.</summary>
    public Task<byte[]> RawPostAsync() => CheckoutScenario.RawPostAsync(_raw, Endpoint, _body);

    /// <summary>The case: the 10-line checkout through the library.</summary>
    public Task<CheckoutResult> CheckoutAsync() => _checkout.CreateCheckoutAsync(CheckoutScenario.Request);

    public void Dispose()
    {
        _raw.Dispose();
        _services.Dispose();
    }

    private sealed class AnsweringHandler(byte[] answer, bool yields) : HttpMessageHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (yields)
            {
                await Task.Yield();
            }

            var response = new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = new ByteArrayContent(answer) };
            response.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            return response;
        }
    }
}
