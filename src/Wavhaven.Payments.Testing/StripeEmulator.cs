using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Wavhaven.Payments.Catalog;
using Wavhaven.Payments.Testing.Api;
using Wavhaven.Payments.Testing.Pages;
using Wavhaven.Payments.Testing.State;
using Wavhaven.Payments.Testing.Webhooks;

namespace Wavhaven.Payments.Testing;

/// <summary>
/// A local, in-memory Stripe on loopback HTTP, for tests and offline development. It serves the part of
/// Stripe's REST API that Wavhaven.Payments uses, at the pinned API version (point
/// <c>StripePaymentsOptions.ApiBaseUrl</c> at <see cref="BaseUrl"/>), hosted Checkout and billing portal
/// pages, and signed webhook deliveries with retries. Its clock is its time provider's (the system clock by default)
/// plus every <see cref="AdvanceClockAsync"/>, which renews, fails and ends subscriptions; what falls due as the
/// provider's time passes runs on the next API call or page. Pass a fake <see cref="StripeEmulatorOptions.TimeProvider"/>
/// for a clock that moves only when told to.
/// </summary>
/// <example>
/// <code>
/// await using var stripe = await StripeEmulator.StartAsync(new StripeEmulatorOptions { Plans = plans });
/// var secret = stripe.AddWebhookEndpoint(new Uri("http://127.0.0.1:5000/api/webhooks/stripe"));
/// // … create a checkout with ApiBaseUrl = stripe.BaseUrl, then:
/// var successUrl = await stripe.CompleteCheckoutAsync(session.Url.ToString());
/// await stripe.WaitForDeliveriesAsync();
/// </code>
/// </example>
public sealed partial class StripeEmulator : IAsyncDisposable
{
    /// <summary>How long <see cref="WaitForDeliveriesAsync"/> waits when no timeout is given.</summary>
    public static readonly TimeSpan DefaultDeliveryTimeout = TimeSpan.FromSeconds(10);

    private readonly WebApplication _app;
    private readonly EmulatorStore _store;
    private readonly WebhookDispatcher _dispatcher;
    private readonly HttpClient _buyer;
    private int _disposed;

    private StripeEmulator(WebApplication app, EmulatorStore store, WebhookDispatcher dispatcher, Uri baseUrl, string secretKey)
    {
        _app = app;
        _store = store;
        _dispatcher = dispatcher;
        BaseUrl = baseUrl;
        SecretKey = secretKey;
        _buyer = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false }) { BaseAddress = baseUrl };
    }

    /// <summary>Gets the emulator's address, e.g. <c>http://127.0.0.1:49152/</c>; the API is under <c>v1/</c>.</summary>
    public Uri BaseUrl { get; }

    /// <summary>Gets the secret key the emulator accepts.</summary>
    public string SecretKey { get; }

    /// <summary>Gets the emulator's clock: the time provider's time plus every <see cref="AdvanceClockAsync"/>.</summary>
    public DateTimeOffset Now
    {
        get
        {
            lock (_store.Gate)
            {
                return _store.Now;
            }
        }
    }

    /// <summary>Gets every event emitted so far, oldest first.</summary>
    public IReadOnlyList<EmulatedEvent> Events
    {
        get
        {
            lock (_store.Gate)
            {
                return [.. _store.Events.Select(record => record.Public)];
            }
        }
    }

    /// <summary>Gets every webhook delivery attempt so far, in the order they were made.</summary>
    public IReadOnlyList<WebhookDelivery> Deliveries => _dispatcher.Deliveries;

    /// <summary>Starts an emulator on 127.0.0.1.</summary>
    /// <param name="options">The settings; the defaults take any free port and accept <c>sk_test_emulator</c>.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <exception cref="ArgumentException">The options are invalid; the message says which one.</exception>
    public static async Task<StripeEmulator> StartAsync(StripeEmulatorOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new StripeEmulatorOptions();
        Validate(options);
        var loggerFactory = options.LoggerFactory ?? NullLoggerFactory.Instance;
        var logger = loggerFactory.CreateLogger(typeof(StripeEmulator).FullName!);
        var clockOffset = options.StartTime is { } start ? start - options.TimeProvider.GetUtcNow() : TimeSpan.Zero;
        var store = new EmulatorStore(options.TimeProvider, clockOffset);
        Seed(store, options);

        var dispatcher = new WebhookDispatcher(options, () =>
        {
            lock (store.Gate)
            {
                return store.Now;
            }
        }, logger);
        store.EventEmitted = dispatcher.Enqueue;

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = typeof(StripeEmulator).Assembly.GetName().Name });
        builder.Services.AddSingleton(loggerFactory);
        builder.Services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(IPAddress.Loopback, options.Port);
        });
        var app = builder.Build();
        var api = new StripeApi(store, options.SecretKey);
        var checkout = new CheckoutPage(store);
        var portal = new PortalPage(store);
        app.Run(context => DispatchAsync(context, api, checkout, portal, logger));

        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await dispatcher.DisposeAsync().ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var baseUrl = new Uri(address.TrimEnd('/') + "/");
        lock (store.Gate)
        {
            store.BaseUrl = baseUrl;
        }

        Log.Started(logger, baseUrl);
        return new StripeEmulator(app, store, dispatcher, baseUrl, options.SecretKey);
    }

    /// <summary>Registers a webhook endpoint that receives every event from now on.</summary>
    /// <param name="url">Where to POST events.</param>
    /// <param name="secret">The signing secret; one is generated when <see langword="null"/>.</param>
    /// <returns>The signing secret (<c>whsec_…</c>) to verify deliveries with.</returns>
    /// <exception cref="ObjectDisposedException">The emulator is disposed.</exception>
    public string AddWebhookEndpoint(Uri url, string? secret = null)
    {
        ArgumentNullException.ThrowIfNull(url);
        CheckEndpointUrl(url, nameof(url));
        ThrowIfDisposed();
        lock (_store.Gate)
        {
            return _store.AddWebhookEndpoint(url, secret).Secret;
        }
    }

    /// <summary>
    /// Moves the emulator's clock forward and runs what fell due, in time order: open checkout sessions expire
    /// (<c>checkout.session.expired</c>, after <c>payment_intent.canceled</c> for the intent a declined card left open); trials announce their end (<c>customer.subscription.trial_will_end</c>,
    /// three days ahead) and end; subscriptions renew (<c>invoice.created</c>, <c>invoice.finalized</c>,
    /// <c>invoice.paid</c>, <c>invoice.payment_succeeded</c>, <c>customer.subscription.updated</c>) or, after
    /// <see cref="FailNextRenewal"/>, fail (<c>invoice.payment_failed</c>, status <c>past_due</c>); subscriptions set
    /// to cancel at period end end (<c>customer.subscription.deleted</c>).
    /// </summary>
    /// <param name="by">How far to move; zero or more.</param>
    /// <param name="cancellationToken">Not used: the advance is done in memory.</param>
    /// <exception cref="ObjectDisposedException">The emulator is disposed.</exception>
    public Task AdvanceClockAsync(TimeSpan by, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(by, TimeSpan.Zero);
        ThrowIfDisposed();
        cancellationToken.ThrowIfCancellationRequested();
        lock (_store.Gate)
        {
            _store.Advance(by);
        }

        return Task.CompletedTask;
    }

    /// <summary>Makes the next renewal of a subscription fail, as if its card were declined.</summary>
    /// <param name="subscriptionId">The subscription (<c>sub_…</c>).</param>
    /// <exception cref="ArgumentException">There is no such subscription.</exception>
    /// <exception cref="ObjectDisposedException">The emulator is disposed.</exception>
    public void FailNextRenewal(string subscriptionId)
    {
        ArgumentException.ThrowIfNullOrEmpty(subscriptionId);
        ThrowIfDisposed();
        lock (_store.Gate)
        {
            var subscription = _store.Find<Subscription>(subscriptionId)
                ?? throw new ArgumentException($"The emulator has no subscription '{subscriptionId}'.", nameof(subscriptionId));
            subscription.FailNextRenewal = true;
        }
    }

    /// <summary>
    /// Pays a checkout as a buyer would: loads the hosted page over HTTP and presses one of its buttons.
    /// </summary>
    /// <remarks>
    /// The events follow Stripe's order:
    /// <list type="bullet">
    /// <item>payment mode, paid: <c>payment_intent.created</c>, <c>payment_intent.succeeded</c>, <c>charge.succeeded</c>,
    /// <c>checkout.session.completed</c> (preceded by <c>customer.created</c> with <c>customer_creation=always</c>);</item>
    /// <item>subscription mode, paid: <c>customer.created</c> (when the session had only <c>customer_email</c>),
    /// <c>customer.subscription.created</c>, <c>invoice.created</c>, <c>invoice.finalized</c>, <c>invoice.paid</c>,
    /// <c>invoice.payment_succeeded</c>, <c>checkout.session.completed</c>;</item>
    /// <item>declined card: in payment mode <c>payment_intent.created</c> (first attempt only), <c>charge.failed</c>,
    /// <c>payment_intent.payment_failed</c>; in subscription mode nothing; the session stays open;</item>
    /// <item>bank debit: payment mode <c>payment_intent.created</c>, <c>payment_intent.processing</c>, <c>charge.pending</c>,
    /// <c>checkout.session.completed</c> (unpaid); subscription mode as paid but without <c>invoice.paid</c> and
    /// <c>invoice.payment_succeeded</c>, which <see cref="SettleAsyncPaymentAsync"/> emits.</item>
    /// </list>
    /// </remarks>
    /// <param name="sessionIdOrUrl">The session id (<c>cs_test_…</c>) or its URL.</param>
    /// <param name="payment">How the buyer pays.</param>
    /// <param name="cancellationToken">Cancels the requests.</param>
    /// <returns>
    /// Where the page sends the buyer: the success URL with the session id filled in; for a declined card (or a
    /// session without a success URL) the Checkout page itself, where the buyer stays.
    /// </returns>
    /// <exception cref="ArgumentException">The URL is not a Checkout page of this emulator.</exception>
    /// <exception cref="InvalidOperationException">The session is unknown, complete or expired.</exception>
    /// <exception cref="ObjectDisposedException">The emulator is disposed.</exception>
    public async Task<Uri> CompleteCheckoutAsync(string sessionIdOrUrl, EmulatedPayment payment = EmulatedPayment.Succeeds, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(sessionIdOrUrl);
        ThrowIfDisposed();
        var pages = new Uri(BaseUrl, "checkout/pay/");
        var sessionId = sessionIdOrUrl;
        if (Uri.TryCreate(sessionIdOrUrl, UriKind.Absolute, out var url))
        {
            if (!url.AbsolutePath.StartsWith(pages.AbsolutePath, StringComparison.Ordinal) || url.Segments.Length != pages.Segments.Length + 1)
            {
                throw new ArgumentException($"'{sessionIdOrUrl}' is not a Checkout page URL; this emulator's start with {pages}.", nameof(sessionIdOrUrl));
            }

            if (url.Port != BaseUrl.Port)
            {
                throw new ArgumentException($"'{sessionIdOrUrl}' is a Checkout page of another emulator or server ({url.GetLeftPart(UriPartial.Authority)}/), not of this one ({BaseUrl}).", nameof(sessionIdOrUrl));
            }

            sessionId = url.Segments[^1].TrimEnd('/');
        }

        var page = new Uri(pages, Uri.EscapeDataString(sessionId));

        using (var shown = await _buyer.GetAsync(page, cancellationToken).ConfigureAwait(false))
        {
            if (shown.StatusCode != HttpStatusCode.OK)
            {
                throw new InvalidOperationException($"Checkout session '{sessionId}' cannot be paid: its page answered {(int)shown.StatusCode} ({await SummaryAsync(shown, cancellationToken).ConfigureAwait(false)}).");
            }
        }

        var value = payment switch
        {
            EmulatedPayment.Declined => "declined",
            EmulatedPayment.DelayedBankDebit => "delayed",
            _ => "succeeds",
        };
        using var form = new FormUrlEncodedContent([new(CheckoutPage.PaymentField, value)]);
        using var response = await _buyer.PostAsync(page, form, cancellationToken).ConfigureAwait(false);
        return response.StatusCode switch
        {
            HttpStatusCode.SeeOther when response.Headers.Location is { } location => location.IsAbsoluteUri ? location : new Uri(page, location),
            HttpStatusCode.OK or HttpStatusCode.PaymentRequired => page,
            _ => throw new InvalidOperationException($"Paying checkout session '{sessionId}' failed: its page answered {(int)response.StatusCode} ({await SummaryAsync(response, cancellationToken).ConfigureAwait(false)})."),
        };
    }

    /// <summary>
    /// Settles a bank debit paid with <see cref="EmulatedPayment.DelayedBankDebit"/>:
    /// <c>checkout.session.async_payment_succeeded</c> or <c>checkout.session.async_payment_failed</c> follows.
    /// </summary>
    /// <param name="sessionId">The session (<c>cs_test_…</c>).</param>
    /// <param name="succeeded">Whether the debit clears.</param>
    /// <param name="cancellationToken">Not used: settling is done in memory.</param>
    /// <exception cref="InvalidOperationException">The session has no delayed payment waiting.</exception>
    /// <exception cref="ObjectDisposedException">The emulator is disposed.</exception>
    public Task SettleAsyncPaymentAsync(string sessionId, bool succeeded, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(sessionId);
        ThrowIfDisposed();
        cancellationToken.ThrowIfCancellationRequested();
        lock (_store.Gate)
        {
            var session = _store.Find<CheckoutSession>(sessionId)
                ?? throw new InvalidOperationException($"The emulator has no checkout session '{sessionId}'.");
            _store.SettleAsyncPayment(session, succeeded);
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// Completes when no webhook delivery is pending: every one queued before or during the wait has succeeded or given
    /// up. An emulator shared by tests running at once waits for all of theirs.
    /// </summary>
    /// <param name="timeout">How long to wait; <see cref="DefaultDeliveryTimeout"/> when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <exception cref="TimeoutException">Deliveries were still pending when the time ran out.</exception>
    /// <exception cref="ObjectDisposedException">The emulator is disposed, or was while this waited.</exception>
    public Task WaitForDeliveriesAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        _dispatcher.WaitForIdleAsync(timeout ?? DefaultDeliveryTimeout, cancellationToken);

    /// <summary>Stops the server and the deliveries.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _buyer.Dispose();
        try
        {
            await _dispatcher.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            // The server stops whatever the deliveries did: a test's port is not held until its process exits.
            await _app.StopAsync().ConfigureAwait(false);
            await _app.DisposeAsync().ConfigureAwait(false);
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

    private static async Task<string> SummaryAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        var start = text.IndexOf("<p class=\"error\"", StringComparison.Ordinal);
        if (start < 0)
        {
            start = text.IndexOf("<p class=\"notice\"", StringComparison.Ordinal);
        }

        if (start < 0)
        {
            start = text.IndexOf("<p>", StringComparison.Ordinal);
        }

        return start < 0 ? "no details" : WebUtility.HtmlDecode(System.Text.RegularExpressions.Regex.Replace(text[start..Math.Min(text.Length, start + 300)], "<[^>]*>", " ")).Split('\n')[0].Trim();
    }

    private static async Task DispatchAsync(HttpContext context, StripeApi api, CheckoutPage checkout, PortalPage portal, ILogger logger)
    {
        var requestId = Ids.New("req_", 14);
        context.Response.Headers["Request-Id"] = requestId;
        var path = context.Request.Path;
        try
        {
            if (path.StartsWithSegments("/v1", StringComparison.Ordinal))
            {
                await api.HandleAsync(context, requestId).ConfigureAwait(false);
            }
            else if (path.StartsWithSegments("/checkout/pay", StringComparison.Ordinal, out var rest) && rest.Value is { Length: > 1 } sessionId)
            {
                await checkout.HandleAsync(context, sessionId.TrimStart('/')).ConfigureAwait(false);
            }
            else if (path.StartsWithSegments("/billing/portal", StringComparison.Ordinal, out rest) && rest.Value is { Length: > 1 } portalId)
            {
                await portal.HandleAsync(context, portalId.TrimStart('/')).ConfigureAwait(false);
            }
            else
            {
                await Html.WriteAsync(context, path == "/" ? StatusCodes.Status200OK : StatusCodes.Status404NotFound, "Stripe emulator", "<h1>Stripe emulator</h1>\n<p>Stripe's API is under /v1/.</p>").ConfigureAwait(false);
            }
        }
        catch (Exception exception) when (!context.Response.HasStarted && exception is not OperationCanceledException)
        {
            Log.Failed(logger, context.Request.Method, path.Value ?? "/", requestId, exception);
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("{\"error\":{\"type\":\"api_error\",\"message\":\"The emulator failed: " + System.Text.Encodings.Web.JavaScriptEncoder.Default.Encode(exception.Message) + "\"}}", context.RequestAborted).ConfigureAwait(false);
        }
    }

    private static void Validate(StripeEmulatorOptions options)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(options.SecretKey, "options.SecretKey");
        if (options.Port is < 0 or > 65535)
        {
            throw new ArgumentException($"StripeEmulatorOptions.Port is {options.Port}; use 0 for any free port, or 1–65535.", nameof(options));
        }

        if (options.MaxDeliveryAttempts < 1)
        {
            throw new ArgumentException($"StripeEmulatorOptions.MaxDeliveryAttempts is {options.MaxDeliveryAttempts}; it must be at least 1.", nameof(options));
        }

        if (options.WebhookTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("StripeEmulatorOptions.WebhookTimeout must be positive.", nameof(options));
        }

        if (options.WebhookRetryDelays is null || options.WebhookRetryDelays.Any(delay => delay < TimeSpan.Zero))
        {
            throw new ArgumentException("StripeEmulatorOptions.WebhookRetryDelays must be set and hold no negative delay.", nameof(options));
        }

        ArgumentNullException.ThrowIfNull(options.TimeProvider, "options.TimeProvider");
        ArgumentNullException.ThrowIfNull(options.Plans, "options.Plans");
        foreach (var endpoint in options.WebhookEndpoints)
        {
            CheckEndpointUrl(endpoint?.Url, nameof(options));
        }
    }

    private static void CheckEndpointUrl(Uri? url, string parameter)
    {
        if (url is null || !url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"A webhook endpoint URL must be an absolute http(s) URL, not '{url}'.", parameter);
        }
    }

    /// <summary>A product per plan, and a price per plan price with a test price id, which becomes the price's id.</summary>
    private static void Seed(EmulatorStore store, StripeEmulatorOptions options)
    {
        foreach (var plan in options.Plans)
        {
            ArgumentNullException.ThrowIfNull(plan, "options.Plans[]");
            var product = store.Add(new Product(Ids.New("prod_"), store.Now, string.IsNullOrWhiteSpace(plan.Name) ? plan.Id : plan.Name) { Description = plan.Description });
            foreach (var planPrice in plan.Prices.Where(price => !string.IsNullOrEmpty(price.TestPriceId)))
            {
                if (store.FindAny(planPrice.TestPriceId!) is not null)
                {
                    throw new ArgumentException($"Plan '{plan.Id}' reuses the test price id '{planPrice.TestPriceId}'; each price id must be unique.", nameof(options));
                }

                var interval = planPrice.Interval switch
                {
                    PriceInterval.Month => "month",
                    PriceInterval.Year => "year",
                    _ => null,
                };
                var price = store.Add(new Price(planPrice.TestPriceId!, store.Now, product.Id, planPrice.Currency.ToLowerInvariant(), planPrice.Amount, interval) { FromCatalog = true });
                product.DefaultPrice ??= price.Id;
            }
        }

        foreach (var endpoint in options.WebhookEndpoints)
        {
            store.AddWebhookEndpoint(endpoint.Url, endpoint.Secret, apiVersion: endpoint.ApiVersion);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 10, EventName = "EmulatorStarted", Level = LogLevel.Information,
            Message = "Stripe emulator listening on {BaseUrl}; point Stripe:ApiBaseUrl there")]
        public static partial void Started(ILogger logger, Uri baseUrl);

        [LoggerMessage(EventId = 11, EventName = "EmulatorFailed", Level = LogLevel.Error,
            Message = "The Stripe emulator failed on {Method} {Path} (request {RequestId})")]
        public static partial void Failed(ILogger logger, string method, string path, string requestId, Exception exception);
    }
}
