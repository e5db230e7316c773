using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;
using Polly.Timeout;
using Wavhaven.Payments.Diagnostics;
using Wavhaven.Payments.Stripe.Serialization;

namespace Wavhaven.Payments.Stripe;

/// <summary>
/// Talks to Stripe's REST API over an <see cref="HttpClient"/> from <see cref="IHttpClientFactory"/>, with
/// the pinned <c>Stripe-Version</c>, Stripe's form encoding, an <c>Idempotency-Key</c> on every POST that
/// every retry reuses, and Stripe's retry rules (network failures, timeouts, 409, 429, 5xx and
/// <c>Stripe-Should-Retry</c>) with capped exponential backoff and jitter.
/// </summary>
internal sealed partial class StripeHttpClient : IStripeClient
{
    /// <summary>The name of the <see cref="HttpClient"/> the library asks <see cref="IHttpClientFactory"/> for.</summary>
    public const string HttpClientName = "Wavhaven.Payments.Stripe";

    private static readonly string UserAgent = "Wavhaven.Payments/" + (typeof(StripeHttpClient).Assembly
        .GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0");

    private static readonly MediaTypeHeaderValue FormContentType = new("application/x-www-form-urlencoded");

    private readonly IHttpClientFactory _httpClientFactory;
    private readonly StripePaymentsOptions _options;
    private readonly Uri _baseAddress;
    private readonly ResiliencePipeline<HttpResponseMessage> _pipeline;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Uri> _uris = new(StringComparer.Ordinal);

    public StripeHttpClient(
        IHttpClientFactory httpClientFactory,
        IOptions<StripePaymentsOptions> options,
        TimeProvider timeProvider,
        ILogger<StripeHttpClient> logger)
    {
        _httpClientFactory = httpClientFactory;
        _options = options.Value;
        _timeProvider = timeProvider;
        _logger = logger;
        var baseUrl = _options.ApiBaseUrl.ToString();
        _baseAddress = new Uri(baseUrl.EndsWith('/') ? baseUrl : baseUrl + "/");
        _pipeline = BuildPipeline(_options, timeProvider, logger);
    }

    public async Task<T> SendAsync<T>(
        HttpMethod method,
        string path,
        IStripeParameters? parameters,
        JsonTypeInfo<T> responseType,
        StripeRequestOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(responseType);

        if (options is not null && !(StripeText.IsHeaderSafe(options.IdempotencyKey) && StripeText.IsHeaderSafe(options.StripeAccount)))
        {
            throw new ArgumentException("The idempotency key and the Stripe account are sent as headers: they may hold only visible ASCII characters.", nameof(options));
        }

        var isPost = method == HttpMethod.Post;
        var query = isPost || parameters is null ? string.Empty : StripeFormWriter.Encode(parameters);
        var endpoint = options?.Endpoint ?? PaymentsTelemetry.EndpointTemplate(path);
        var uri = query.Length == 0 ? UriOf(path, endpoint) : new Uri(_baseAddress, path.TrimStart('/') + "?" + query);
        byte[]? body = null;
        if (isPost)
        {
            body = parameters is null ? [] : StripeFormWriter.EncodeToUtf8(parameters);
        }

        var request = new RequestState(
            method,
            path,
            endpoint,
            uri,
            body,
            isPost ? options?.IdempotencyKey ?? NewIdempotencyKey() : null,
            options?.StripeAccount,
            _options.SecretKey,
            _httpClientFactory.CreateClient(HttpClientName));

        var started = _timeProvider.GetTimestamp();
        using var activity = PaymentsTelemetry.Source.StartActivity("Wavhaven.Payments.StripeCall", ActivityKind.Client);
        activity?.SetTag("http.request.method", method.Method);
        activity?.SetTag("stripe.endpoint", request.Endpoint);
        // The outcome, not a thrown exception: ExecuteOutcomeAsync adds no async layer of its own around the pipeline's
        // strategies, where ExecuteAsync adds two (each suspends and resumes on every call that goes over the network).
        Outcome<HttpResponseMessage> outcome;
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        try
        {
            context.Properties.Set(RequestKey, request);
            outcome = await _pipeline.ExecuteOutcomeAsync(static (ctx, state) => state.SendAttemptAsync(ctx.CancellationToken), context, request).ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }

        if (outcome.Exception is { } failure)
        {
            // No answer came: recorded as such, with the exception's type in place of a status.
            RecordCall(request, null, failure.GetType().FullName, started);
            activity?.SetTag("error.type", failure.GetType().FullName);
            activity?.SetTag("stripe.attempts", request.Attempts);
            activity?.SetStatus(ActivityStatusCode.Error, failure.GetType().Name);
        }

        if (outcome.Exception is HttpRequestException or TimeoutRejectedException)
        {
            var exception = outcome.Exception;
            Log.Unreachable(_logger, method.Method, path, request.Attempts, exception.Message);
            var timeout = exception is TimeoutRejectedException;
            throw new StripeConnectionException(
                timeout
                    ? $"Stripe did not answer {method.Method} {path} within {_options.RequestTimeout.TotalSeconds:0.#} s, on {request.Attempts} attempt(s)."
                    : $"Stripe could not be reached for {method.Method} {path} on {request.Attempts} attempt(s): {exception.Message}",
                exception)
            {
                Method = method.Method,
                Path = path,
                IdempotencyKey = request.IdempotencyKey,
                IsTimeout = timeout,
                Attempts = request.Attempts,
            };
        }

        outcome.ThrowIfException(); // anything else (the caller's cancellation, an app handler's failure), as it was thrown

        using (var response = outcome.Result!)
        {
            var requestId = HeaderValue(response, "Request-Id");
            var status = (int)response.StatusCode;
            var elapsed = RecordCall(request, status, null, started);
            activity?.SetTag("http.response.status_code", status);
            activity?.SetTag("stripe.request_id", requestId);
            activity?.SetTag("stripe.attempts", request.Attempts);
            if (!response.IsSuccessStatusCode)
            {
                activity?.SetStatus(ActivityStatusCode.Error);
            }

            Log.Answered(_logger, method.Method, path, status, elapsed.TotalMilliseconds, request.Attempts, requestId);

            if (response.IsSuccessStatusCode)
            {
                T? result;
                try
                {
                    result = await ReadAsync(response.Content, responseType, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception exception) when (exception is JsonException or NotSupportedException)
                {
                    // A proxy's HTML page, a cut-off answer: Stripe may well have done what was asked (a POST's retry with
                    // the same idempotency key gets its answer again), so the caller needs the call and its key, not a
                    // serializer's complaint.
                    throw Unreadable(request, status, requestId, $"Stripe answered {method.Method} {path} with {status}, but not with the JSON it sends: {exception.Message}", exception);
                }

                if (result is StripeObject stripeObject && request.IdempotencyKey is not null
                    && string.Equals(HeaderValue(response, "Idempotent-Replayed"), "true", StringComparison.OrdinalIgnoreCase))
                {
                    stripeObject.Replayed = true;
                }

                return result ?? throw Unreadable(request, status, requestId, $"Stripe answered {method.Method} {path} with an empty body.", null);
            }

            throw await ReadErrorAsync(response, request, requestId, cancellationToken).ConfigureAwait(false);
        }
    }

    private static StripeApiException Unreadable(RequestState request, int status, string? requestId, string message, Exception? inner) =>
        new(requestId is null ? message : message + " [request " + requestId + "]", inner)
        {
            Method = request.Method.Method,
            Path = request.Path,
            IdempotencyKey = request.IdempotencyKey,
            StatusCode = status,
            RequestId = requestId,
        };

    /// <summary>
    /// The absolute URI of a call without a query. Those of paths without ids (POST /v1/checkout/sessions: a handful,
    /// fixed by the library) are parsed once; a path with an id is parsed each time, and the cache stops at
    /// <see cref="MaxCachedUris"/> in case an id ever looks like a plain word. <paramref name="endpoint"/> is the path's
    /// telemetry template, which is the path itself when it has no id.
    /// </summary>
    private Uri UriOf(string path, string endpoint)
    {
        if (_uris.TryGetValue(path, out var cached))
        {
            return cached;
        }

        var uri = new Uri(_baseAddress, path.TrimStart('/'));
        if (ReferenceEquals(endpoint, path) && _uris.Count < MaxCachedUris)
        {
            _uris.TryAdd(path, uri);
        }

        return uri;
    }

    private const int MaxCachedUris = 64;

    private static readonly ResiliencePropertyKey<RequestState> RequestKey = new("Wavhaven.Payments.StripeRequest");

    /// <summary>
    /// Records one call's duration: with Stripe's status code (an integer, as on the span and in OpenTelemetry's HTTP
    /// conventions), or, when no answer came, with <c>error.type</c> in its place.
    /// </summary>
    private TimeSpan RecordCall(RequestState request, int? status, string? errorType, long started)
    {
        var elapsed = _timeProvider.GetElapsedTime(started);
        if (PaymentsTelemetry.StripeRequestDuration.Enabled)
        {
            var tags = new TagList
            {
                { "http.request.method", request.Method.Method },
                { "stripe.endpoint", request.Endpoint },
            };
            if (status is { } code)
            {
                tags.Add("http.response.status_code", code);
            }
            else
            {
                tags.Add("error.type", errorType);
            }

            PaymentsTelemetry.StripeRequestDuration.Record(elapsed.TotalSeconds, tags);
        }

        return elapsed;
    }

    private static string NewIdempotencyKey() => IdempotencyKeys.New("wavhaven-");

    private static ResiliencePipeline<HttpResponseMessage> BuildPipeline(StripePaymentsOptions options, TimeProvider timeProvider, ILogger logger)
    {
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = timeProvider };
        if (options.MaxNetworkRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = options.MaxNetworkRetries,
                ShouldHandle = static args => ValueTask.FromResult(ShouldRetry(args.Outcome)),
                DelayGenerator = static args => ValueTask.FromResult<TimeSpan?>(RetryDelay(args.AttemptNumber, Random.Shared.NextDouble())),
                OnRetry = args =>
                {
                    var request = args.Context.Properties.GetValue(RequestKey, null!);
                    var reason = args.Outcome.Exception is { } exception
                        ? exception.GetType().Name
                        : ((int)args.Outcome.Result!.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
                    PaymentsTelemetry.StripeRetries.Add(1, new TagList
                    {
                        { "http.request.method", request.Method.Method },
                        { "stripe.endpoint", request.Endpoint },
                        { "reason", reason },
                    });
                    Log.Retrying(logger, request.Method.Method, request.Path, reason, args.AttemptNumber + 1, args.RetryDelay.TotalMilliseconds);
                    return default;
                },
            });
        }

        builder.AddTimeout(options.RequestTimeout);
        return builder.Build();
    }

    /// <summary>
    /// Stripe's retry rules: <c>Stripe-Should-Retry</c> decides when present; otherwise network failures,
    /// timeouts, 409, 429 and 5xx are retried. (stripe-node does not retry a 429 without the header; Stripe's
    /// guidance for rate limits is to back off and retry, so this client does.)
    /// </summary>
    internal static bool ShouldRetry(Outcome<HttpResponseMessage> outcome)
    {
        if (outcome.Exception is not null)
        {
            return outcome.Exception is HttpRequestException or TimeoutRejectedException;
        }

        var response = outcome.Result!;
        var shouldRetry = HeaderValue(response, "Stripe-Should-Retry");
        if (shouldRetry is not null)
        {
            return string.Equals(shouldRetry, "true", StringComparison.OrdinalIgnoreCase);
        }

        return response.StatusCode is HttpStatusCode.Conflict or HttpStatusCode.TooManyRequests || (int)response.StatusCode >= 500;
    }

    /// <summary>
    /// min(0.5 s × 2^(n−1), 5 s) × a jitter factor in [0.5, 1], never under 0.5 s, where n is the number of
    /// retries already made.
    /// </summary>
    internal static TimeSpan RetryDelay(int retriesDone, double random)
    {
        var seconds = Math.Min(0.5 * Math.Pow(2, retriesDone - 1), 5.0) * (0.5 + (random / 2));
        return TimeSpan.FromSeconds(Math.Max(seconds, 0.5));
    }

    /// <summary>
    /// Reads a successful answer. The body is already buffered (the request asked for <see cref="HttpCompletionOption.ResponseContentRead"/>):
    /// a Stripe object gets its bytes in an array of its own, which it keeps to fill in its extension data only if asked.
    /// Any other answer (a Checkout session's link, a list) keeps nothing of them, so up to <see cref="MaxPooledAnswer"/>
    /// it is read from a pooled copy, cleared when returned; a larger or empty one, or one in another charset than
    /// UTF-8, is read as before.
    /// </summary>
    private static async Task<T?> ReadAsync<T>(HttpContent content, JsonTypeInfo<T> responseType, CancellationToken cancellationToken)
    {
        if (!IsUtf8(content))
        {
            return await content.ReadFromJsonAsync(responseType, cancellationToken).ConfigureAwait(false); // transcodes
        }

        // HttpClient's buffer, behind a stream that does not expose it: ReadAsByteArrayAsync would copy it into a new array
        // (3.2 KB for a Checkout session), on top of the one HttpClient filled. A stream something has read from already
        // (a handler of the app's peeking at the answer) is left alone: the body is then read whole, as below.
        // (JsonSerializer's Stream overload allocates as little, but took 0.17 µs longer for the checkout's link.)
        if (!StripeJson.KeepsJson(responseType)
            && await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false) is MemoryStream { Position: 0, Length: > 0 and <= MaxPooledAnswer } buffered)
        {
            var length = (int)buffered.Length;
            var copy = ArrayPool<byte>.Shared.Rent(length);
            try
            {
                buffered.ReadExactly(copy, 0, length);
                return StripeJson.Deserialize(copy.AsMemory(0, length), responseType);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(copy, clearArray: true); // answers carry emails and names
            }
        }

        // The content is buffered (see above), so it reads whole here even after its stream was handed out.
        var body = await content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        return StripeJson.Deserialize(body, responseType);
    }

    /// <summary>
    /// Whether the answer is UTF-8 (or says nothing of its charset). A charset .NET does not know (a proxy's page) throws
    /// <see cref="NotSupportedException"/>, as a body that is not JSON does, where <c>ReadFromJsonAsync</c> would throw an
    /// <see cref="InvalidOperationException"/> that the callers cannot tell from a bug.
    /// </summary>
    private static bool IsUtf8(HttpContent content)
    {
        if (content.Headers.ContentType?.CharSet is not { } charset)
        {
            return true;
        }

        var name = charset.Trim('"');
        if (name.Equals("utf-8", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        try
        {
            _ = Encoding.GetEncoding(name);
            return false;
        }
        catch (ArgumentException exception)
        {
            throw new NotSupportedException($"The answer's charset, \"{name}\", is not one .NET can read.", exception);
        }
    }

    /// <summary>
    /// The largest answer read from a pooled copy (a Checkout session is about 3 KB); a larger one (a long list) gets an
    /// array of its own rather than leave an array that size in the shared pool.
    /// </summary>
    private const int MaxPooledAnswer = 64 * 1024;

    private static string? HeaderValue(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    private static async Task<StripeApiException> ReadErrorAsync(HttpResponseMessage response, RequestState request, string? requestId, CancellationToken cancellationToken)
    {
        StripeError? error = null;
        try
        {
            _ = IsUtf8(response.Content); // a charset .NET does not know is not Stripe's JSON either
            var body = await response.Content.ReadFromJsonAsync(StripeJsonContext.Default.StripeErrorResponse, cancellationToken).ConfigureAwait(false);
            error = body?.Error;
        }
        catch (JsonException)
        {
            // Not a Stripe error body (a proxy's page, say): the status alone must do.
        }
        catch (NotSupportedException)
        {
            // Not JSON at all, or in a charset .NET cannot read.
        }

        var status = (int)response.StatusCode;
        var message = new StringBuilder()
            .Append("Stripe refused ").Append(request.Method.Method).Append(' ').Append(request.Path)
            .Append(" (").Append(status);
        if (error?.Type is { } type)
        {
            message.Append(' ').Append(type);
        }

        if (error?.Code is { } code)
        {
            message.Append(", code ").Append(code);
        }

        if (error?.Param is { } param)
        {
            message.Append(", param ").Append(param);
        }

        message.Append("): ");
        if (error?.Param is not null && error.Message is not null)
        {
            // Stripe's message about a parameter can quote its value ("Invalid email address: …", "Invalid string: …"): a
            // buyer's email or name would reach every log the exception is written to. The caller has it in StripeMessage.
            message.Append("Stripe's message is in StripeMessage, not repeated here, since it can quote the parameter's value");
        }
        else
        {
            message.Append(error?.Message ?? "no error details in the response");
        }

        if (requestId is not null)
        {
            message.Append(" [request ").Append(requestId).Append(']');
        }

        return new StripeApiException(message.ToString())
        {
            Method = request.Method.Method,
            Path = request.Path,
            IdempotencyKey = request.IdempotencyKey,
            StatusCode = status,
            Type = error?.Type,
            Code = error?.Code,
            DeclineCode = error?.DeclineCode,
            Param = error?.Param,
            StripeMessage = error?.Message,
            DocUrl = error?.DocUrl,
            RequestId = requestId,
        };
    }

    /// <summary>One logical request: built once, sent once per attempt with the same idempotency key.</summary>
    private sealed class RequestState(
        HttpMethod method,
        string path,
        string endpoint,
        Uri uri,
        byte[]? body,
        string? idempotencyKey,
        string? stripeAccount,
        string secretKey,
        HttpClient httpClient)
    {
        public HttpMethod Method => method;

        public string Path => path;

        public string Endpoint => endpoint;

        public string? IdempotencyKey => idempotencyKey;

        public int Attempts { get; private set; }

        /// <summary>
        /// Sends one attempt. Every exception becomes the outcome, as Polly's <c>ExecuteOutcomeAsync</c>
        /// requires of its callback: the pipeline's strategies decide on it (a network failure is retried, the caller's
        /// cancellation is not), and <see cref="SendAsync{T}"/> rethrows what is left.
        /// </summary>
        public async ValueTask<Outcome<HttpResponseMessage>> SendAttemptAsync(CancellationToken cancellationToken)
        {
            Attempts++;
            try
            {
                using var message = CreateMessage();
                return Outcome.FromResult(await httpClient.SendAsync(message, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false));
            }
#pragma warning disable CA1031 // Not swallowed: the outcome carries it to the pipeline, and the caller rethrows it.
            catch (Exception exception)
#pragma warning restore CA1031
            {
                return Outcome.FromException<HttpResponseMessage>(exception);
            }
        }

        private HttpRequestMessage CreateMessage()
        {
            var message = new HttpRequestMessage(method, uri);
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secretKey);
            message.Headers.TryAddWithoutValidation("Stripe-Version", StripeApiVersion.Current);
            message.Headers.TryAddWithoutValidation("User-Agent", UserAgent);
            if (idempotencyKey is not null)
            {
                message.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
            }

            if (stripeAccount is not null)
            {
                message.Headers.TryAddWithoutValidation("Stripe-Account", stripeAccount);
            }

            if (body is not null)
            {
                message.Content = new ByteArrayContent(body);
                message.Content.Headers.ContentType = FormContentType;
            }

            return message;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, EventName = "StripeAnswered", Level = LogLevel.Debug,
            Message = "Stripe answered {Method} {Path} with {StatusCode} in {ElapsedMilliseconds:0} ms after {Attempts} attempt(s) (request id {RequestId})")]
        public static partial void Answered(ILogger logger, string method, string path, int statusCode, double elapsedMilliseconds, int attempts, string? requestId);

        [LoggerMessage(EventId = 2, EventName = "StripeRetrying", Level = LogLevel.Warning,
            Message = "Stripe call {Method} {Path} failed ({Reason}); retry {Retry} in {DelayMilliseconds:0} ms with the same idempotency key")]
        public static partial void Retrying(ILogger logger, string method, string path, string reason, int retry, double delayMilliseconds);

        [LoggerMessage(EventId = 3, EventName = "StripeUnreachable", Level = LogLevel.Error,
            Message = "Stripe could not be reached for {Method} {Path} after {Attempts} attempt(s): {Reason}. Check the network and Stripe:ApiBaseUrl")]
        public static partial void Unreachable(ILogger logger, string method, string path, int attempts, string reason);
    }
}
