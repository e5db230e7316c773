using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Reflection;

namespace Wavhaven.Payments.Diagnostics;

/// <summary>
/// The library's one <see cref="ActivitySource"/> and one <see cref="Meter"/>, both named
/// <see cref="Name"/>. Tags never carry secrets, emails or amounts.
/// </summary>
public static class PaymentsTelemetry
{
    /// <summary>The name of the activity source and of the meter: <c>Wavhaven.Payments</c>.</summary>
    public const string Name = "Wavhaven.Payments";

    private static readonly string? Version = typeof(PaymentsTelemetry).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0];

    internal static readonly ActivitySource Source = new(Name, Version);

    internal static readonly Meter Meter = new(Name, Version);

    /// <summary>
    /// The bucket boundaries of the duration histograms, in seconds: OpenTelemetry's for HTTP durations, and a few more for
    /// calls that retried and handlers that ran long. Without them the OpenTelemetry SDK uses its default buckets, made for
    /// milliseconds (0, 5, 10, 25, …), and every duration under five seconds falls in the first.
    /// </summary>
    private static readonly InstrumentAdvice<double> SecondsBuckets = new()
    {
        HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60, 120],
    };

    /// <summary>Webhook events by <c>stripe.event.type</c> and <c>outcome</c> (processed, ignored, duplicate, queued, in_progress, failed, invalid_signature, invalid_payload, cancelled).</summary>
    internal static readonly Counter<long> WebhookEvents = Meter.CreateCounter<long>(
        "wavhaven.payments.webhook.events", "{event}", "Webhook deliveries received, by event type and outcome.");

    /// <summary>Time to verify, claim and handle one delivery.</summary>
    internal static readonly Histogram<double> WebhookDuration = Meter.CreateHistogram<double>(
        "wavhaven.payments.webhook.duration", "s", "Time to verify, claim and handle one webhook delivery.", tags: null, advice: SecondsBuckets);

    /// <summary>Time one handler took, by <c>handler.kind</c> and <c>outcome</c>.</summary>
    internal static readonly Histogram<double> HandlerDuration = Meter.CreateHistogram<double>(
        "wavhaven.payments.handler.duration", "s", "Time one fulfillment, subscription or event handler took.", tags: null, advice: SecondsBuckets);

    /// <summary>Time of one logical Stripe call (all attempts), by <c>http.request.method</c>, <c>stripe.endpoint</c> and <c>http.response.status_code</c> (or <c>error.type</c> when no answer came).</summary>
    internal static readonly Histogram<double> StripeRequestDuration = Meter.CreateHistogram<double>(
        "wavhaven.payments.stripe.request.duration", "s", "Time of one call to Stripe's API, retries included.", tags: null, advice: SecondsBuckets);

    /// <summary>Retries of Stripe calls, by <c>http.request.method</c>, <c>stripe.endpoint</c> and <c>reason</c>.</summary>
    internal static readonly Counter<long> StripeRetries = Meter.CreateCounter<long>(
        "wavhaven.payments.stripe.retries", "{retry}", "Retries of calls to Stripe's API.");

    /// <summary>
    /// The path of a Stripe call with its ids replaced by <c>{id}</c> (<c>/v1/subscriptions/{id}</c>), so that
    /// tags stay few. A segment is an id when it has an underscore and a digit or capital letter.
    /// </summary>
    internal static string EndpointTemplate(string path)
    {
        // Most calls' paths have no id (POST /v1/checkout/sessions): answer those without allocating.
        var changed = false;
        foreach (var range in path.AsSpan().Split('/'))
        {
            if (IsId(path.AsSpan(range)))
            {
                changed = true;
                break;
            }
        }

        if (!changed)
        {
            return path;
        }

        var segments = path.Split('/');
        for (var i = 0; i < segments.Length; i++)
        {
            if (IsId(segments[i]))
            {
                segments[i] = "{id}";
            }
        }

        return string.Join('/', segments);
    }

    /// <summary>
    /// Attempts of the queue worker, by <c>stripe.event.type</c> and <c>outcome</c> (processed, ignored, retry, dead, lost), with
    /// <c>error.type</c> = <c>timeout</c> on a retry or dead attempt that <see cref="Webhooks.WebhookQueueOptions.HandlerTimeout"/> cut short.
    /// </summary>
    internal static readonly Counter<long> QueueAttempts = Meter.CreateCounter<long>(
        "wavhaven.payments.webhook.queue.attempts", "{attempt}", "Attempts of the webhook queue worker, by event type and outcome.");

    private static bool IsId(ReadOnlySpan<char> segment) =>
        segment.Contains('_') && segment.IndexOfAny(IdMarks) >= 0;

    private static readonly System.Buffers.SearchValues<char> IdMarks = System.Buffers.SearchValues.Create("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ");

    internal static string OutcomeTag(Webhooks.WebhookOutcome outcome) => outcome switch
    {
        Webhooks.WebhookOutcome.Processed => "processed",
        Webhooks.WebhookOutcome.Ignored => "ignored",
        Webhooks.WebhookOutcome.Duplicate => "duplicate",
        Webhooks.WebhookOutcome.Queued => "queued",
        Webhooks.WebhookOutcome.InProgress => "in_progress",
        Webhooks.WebhookOutcome.Failed => "failed",
        Webhooks.WebhookOutcome.InvalidSignature => "invalid_signature",
        _ => "invalid_payload",
    };
}
