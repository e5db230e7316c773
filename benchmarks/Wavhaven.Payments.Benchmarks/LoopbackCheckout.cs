using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Wavhaven.Payments.Checkout;

namespace Wavhaven.Payments.Benchmarks;

/// <summary>
/// The two cases of the checkout benchmarks against one Kestrel server on 127.0.0.1 standing in for Stripe: the
/// library's <see cref="ICheckoutService.CreateCheckoutAsync"/>, and a raw <see cref="HttpClient"/> POST of the very
/// body the library sent, with its headers. The server answers every <c>POST /v1/checkout/sessions</c> with the same
/// open session (<see cref="CheckoutScenario.OpenSession"/>), draining the request's body as a real server would.
/// </summary>
internal sealed class LoopbackCheckout : IAsyncDisposable
{
    private readonly WebApplication _server;
    private readonly byte[] _answer = CheckoutScenario.OpenSession();
    private readonly HttpClient _raw;
    private ServiceProvider? _services;
    private IServiceScope? _scope;
    private ICheckoutService? _checkout;
    private Uri? _endpoint;
    private byte[]? _body;

    private LoopbackCheckout(WebApplication server, bool split)
    {
        _server = server;
        _raw = split ? new HttpClient(new WireTimer(RawWire) { InnerHandler = new SocketsHttpHandler() }) : new HttpClient();
    }

    /// <summary>The raw POST's last times on the wire, when started with <c>split</c>.</summary>
    public WireTimes RawWire { get; } = new();

    /// <summary>The library's last times on the wire, when started with <c>split</c>.</summary>
    public WireTimes LibraryWire { get; } = new();

    /// <summary>
    /// Starts the server and the library, creates one checkout through the library to capture its body, and checks
    /// that the raw POST of that body reads the whole answer. With <paramref name="split"/>, both clients get a
    /// <see cref="WireTimer"/> just above the handler that sends: the raw one right on its <see cref="SocketsHttpHandler"/>,
    /// the library's among <see cref="IHttpClientFactory"/>'s handlers (inside its outer logging handler).
    /// </summary>
    public static async Task<LoopbackCheckout> StartAsync(bool split = false)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        var pair = new LoopbackCheckout(builder.Build(), split);
        pair._server.MapPost("/v1/checkout/sessions", pair.AnswerAsync);
        await pair._server.StartAsync();
        var address = new Uri(pair._server.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        pair._endpoint = new Uri(address, "/v1/checkout/sessions");

        pair._services = CheckoutScenario.Services(address, split ? client => client.AddHttpMessageHandler(() => new WireTimer(pair.LibraryWire)) : null);
        pair._scope = pair._services.CreateScope();
        pair._checkout = pair._scope.ServiceProvider.GetRequiredService<ICheckoutService>();
        await pair.CheckoutAsync();
        if (Volatile.Read(ref pair._body) is null)
        {
            throw new InvalidOperationException("The library's request never reached the server.");
        }

        await pair.RawPostAsync();
        return pair;
    }

    /// <summary>The baseline: the library's body, posted by hand.</summary>
    public async Task<byte[]> RawPostAsync()
    {
        var answer = await CheckoutScenario.RawPostAsync(_raw, _endpoint!, _body!);
        return answer.Length == _answer.Length ? answer : throw new InvalidOperationException("The raw POST did not read the whole answer.");
    }

    /// <summary>The case: the 10-line checkout through the library.</summary>
    public Task<CheckoutResult> CheckoutAsync() => _checkout!.CreateCheckoutAsync(CheckoutScenario.Request);

    public async ValueTask DisposeAsync()
    {
        _raw.Dispose();
        _scope?.Dispose();
        if (_services is not null)
        {
            await _services.DisposeAsync();
        }

        await _server.StopAsync();
        await _server.DisposeAsync();
    }

    private async Task AnswerAsync(HttpContext context)
    {
        if (Volatile.Read(ref _body) is null)
        {
            using var copy = new MemoryStream();
            await context.Request.Body.CopyToAsync(copy);
            Interlocked.CompareExchange(ref _body, copy.ToArray(), null);
        }
        else
        {
            // Drain the body as a real server would, without keeping it.
            var buffer = new byte[4096];
            while (await context.Request.Body.ReadAsync(buffer) > 0)
            {
            }
        }

        context.Response.ContentType = "application/json";
        context.Response.ContentLength = _answer.Length;
        await context.Response.Body.WriteAsync(_answer);
    }
}
