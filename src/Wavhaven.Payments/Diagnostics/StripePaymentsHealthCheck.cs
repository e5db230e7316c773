using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Wavhaven.Payments.Stripe;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.Diagnostics;

/// <summary>
/// Reports what would make payments fail quietly: invalid options, no webhook secret, webhook endpoints at
/// Stripe whose API version differs from the client's pin (their events arrive in other shapes), and, with a
/// durable event queue, dead events, inline deliveries that failed past Stripe's redeliveries, and a backlog the workers
/// do not keep up with. Stripe's list of endpoints is cached, so that frequent health probes do not become frequent calls
/// to Stripe.
/// </summary>
internal sealed class StripePaymentsHealthCheck(IServiceProvider services, TimeProvider timeProvider) : IHealthCheck
{
    /// <summary>How late the oldest due queued event may be before the backlog is reported.</summary>
    internal static readonly TimeSpan BacklogAge = TimeSpan.FromMinutes(5);

    /// <summary>How long after an event Stripe redelivers it in live mode; an inline failure older than this waits for a replay.</summary>
    internal static readonly TimeSpan StripeRedeliveryWindow = TimeSpan.FromDays(3);

    /// <summary>
    /// The same in a sandbox, where Stripe retries three times over a few hours: a day is past them, with a margin, and
    /// tells a test-mode app of a given-up event two days sooner.
    /// </summary>
    internal static readonly TimeSpan SandboxRedeliveryWindow = TimeSpan.FromDays(1);

    /// <summary>How many events of one state the check reads at most.</summary>
    private const int QueueSample = 1000;

    /// <summary>How long the list of webhook endpoints is reused.</summary>
    internal static readonly TimeSpan EndpointsCacheDuration = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How long a failure to list them is reported again without asking Stripe: probes every few seconds would otherwise
    /// each wait out the client's retries and timeouts while Stripe is down, one behind the other.
    /// </summary>
    internal static readonly TimeSpan FailureCacheDuration = TimeSpan.FromSeconds(30);

    private readonly SemaphoreSlim _refresh = new(1, 1);
    private volatile EndpointsSnapshot? _cached;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        StripePaymentsOptions options;
        try
        {
            options = services.GetRequiredService<IOptions<StripePaymentsOptions>>().Value;
        }
        catch (OptionsValidationException exception)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "Stripe payments are misconfigured: " + string.Join(" ", exception.Failures));
        }

        var problems = new List<string>();
        var data = new Dictionary<string, object> { ["mode"] = options.Mode.ToString().ToLowerInvariant(), ["api_version"] = StripeApiVersion.Current };
        if (options.WebhookSecrets.Count == 0)
        {
            problems.Add("Stripe:WebhookSecrets is empty, so no webhook can be verified.");
        }

        IReadOnlyList<StripeWebhookEndpoint> endpoints;
        try
        {
            endpoints = await GetEndpointsAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (StripeApiException exception) when (exception.StatusCode is >= 400 and < 500 and not 401)
        {
            // Stripe answered, and refused this call only: a restricted key without read access to webhook endpoints, say.
            // Payments work; only the version check cannot run, which is a problem to look at, not an outage. (A 401 is
            // a key Stripe does not know: nothing works, and that is the failure status below.)
            problems.Add($"Stripe's webhook endpoints could not be listed ({exception.StatusCode}), so their API versions were not checked: {exception.StripeMessage ?? exception.Message}");
            endpoints = [];
        }
        catch (StripeException exception)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "Stripe's webhook endpoints could not be listed: " + exception.Message, exception, data);
        }

        var mismatched = endpoints
            .Where(endpoint => endpoint.Status != "disabled" && !string.Equals(endpoint.ApiVersion, StripeApiVersion.Current, StringComparison.Ordinal))
            .ToList();
        data["webhook_endpoints"] = endpoints.Count;
        if (mismatched.Count > 0)
        {
            data["mismatched_webhook_endpoints"] = string.Join(", ", mismatched.Select(endpoint => endpoint.Id));
            problems.Add($"{mismatched.Count} webhook endpoint(s) at Stripe send events at another API version than {StripeApiVersion.Current}: "
                + string.Join("; ", mismatched.Select(endpoint => $"{endpoint.Id} ({Where(endpoint.Url)}) at {endpoint.ApiVersion ?? "the account's default version"}"))
                + ". Recreate them with api_version " + StripeApiVersion.Current + ".");
        }

        await CheckQueueAsync(problems, data, options.Mode == StripeMode.Live ? StripeRedeliveryWindow : SandboxRedeliveryWindow, cancellationToken).ConfigureAwait(false);

        return problems.Count == 0
            ? HealthCheckResult.Healthy($"Stripe payments are configured ({options.Mode.ToString().ToLowerInvariant()} mode, {endpoints.Count} webhook endpoint(s) at {StripeApiVersion.Current}).", data)
            : HealthCheckResult.Degraded(string.Join(" ", problems), data: data);
    }

    /// <summary>
    /// Dead events, inline failures Stripe no longer redelivers, and due events waiting longer than <see cref="BacklogAge"/>,
    /// in a store that queues.
    /// </summary>
    private async Task CheckQueueAsync(List<string> problems, Dictionary<string, object> data, TimeSpan redeliveryWindow, CancellationToken cancellationToken)
    {
        var scope = services.GetRequiredService<IServiceScopeFactory>().CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            if (scope.ServiceProvider.GetService<IWebhookEventStore>() is not IWebhookEventQueue queue)
            {
                return;
            }

            var dead = await queue.ListAsync(WebhookEventState.Dead, QueueSample, cancellationToken).ConfigureAwait(false);
            data["dead_events"] = dead.Count;
            if (dead.Count > 0)
            {
                problems.Add($"{Count(dead.Count)} dead webhook event(s), e.g. {ToReplay(dead)}");
            }

            // An inline delivery that failed has no next attempt: Stripe's redeliveries are its retries, for three days after
            // the event in live mode, a few hours in a sandbox. Past them nothing runs it again but a replay, and inline
            // events never become dead: report it as such.
            var now = timeProvider.GetUtcNow();
            // They are the failures updated longest ago: the store looks for them over the whole table, not among the newest.
            var givenUp = await queue.ListGivenUpAsync(now - redeliveryWindow, QueueSample, cancellationToken).ConfigureAwait(false);
            data["given_up_events"] = givenUp.Count;
            if (givenUp.Count > 0)
            {
                problems.Add($"{Count(givenUp.Count)} webhook event(s) failed inline and Stripe has stopped redelivering them (it tries for three days in live mode, a few hours in a sandbox), e.g. {ToReplay(givenUp)}");
            }

            // Queued events are those with a next attempt: an inline delivery that failed (or a purchase claim) has none,
            // and waits for Stripe's redelivery, not for the workers. Counted by the store over the whole queue (the EF
            // Core store does; see GetBacklogAsync): the overdue ones are the oldest, which a sample of the newest misses.
            var backlog = await queue.GetBacklogAsync(now - BacklogAge, cancellationToken).ConfigureAwait(false);
            data["queued_events"] = backlog.Queued;
            if (backlog.Overdue > 0)
            {
                var oldest = now - backlog.OldestDueAt!.Value;
                data["overdue_events"] = backlog.Overdue;
                problems.Add($"The webhook queue has a backlog: {backlog.Overdue} event(s) due for more than {BacklogAge.TotalMinutes:0} minutes (the oldest for {oldest.TotalMinutes:0} minutes). Check that the queue workers run and keep up (Stripe:WebhookQueue:MaxConcurrency).");
            }
        }
    }

    /// <summary>
    /// Where an endpoint points, without the user info or query of its URL: an endpoint guarded by HTTP basic auth or a
    /// token carries the credentials there, and this description reaches health UIs and logs.
    /// </summary>
    private static string Where(string? url) => Uri.TryCreate(url, UriKind.Absolute, out var uri)
        ? uri.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped)
        : "its URL is not shown";

    /// <summary>The first five events of a list to replay, and what to do about them.</summary>
    private static string ToReplay(IReadOnlyList<WebhookEventInfo> events) =>
        string.Join(", ", events.Take(5).Select(e => $"{e.Id} ({e.Type})")) + ": fix the handler, then replay them with IWebhookEventAdmin.ReplayAsync.";

    private static string Count(int count) => count >= QueueSample ? $"{QueueSample} or more" : count.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private async Task<IReadOnlyList<StripeWebhookEndpoint>> GetEndpointsAsync(CancellationToken cancellationToken)
    {
        if (Reuse(_cached) is { } cached)
        {
            return cached;
        }

        await _refresh.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Reuse(_cached) is { } fresh)
            {
                return fresh;
            }

            // Resolved here, not in the constructor: the default client reads the options when it is built, and invalid
            // options must reach the check's own "misconfigured" answer above, not fail the check's construction.
            try
            {
                var list = await services.GetRequiredService<IStripeClient>().ListWebhookEndpointsAsync(cancellationToken).ConfigureAwait(false);
                _cached = new EndpointsSnapshot(timeProvider.GetTimestamp(), list.Data, null);
                return list.Data;
            }
            catch (StripeException exception)
            {
                _cached = new EndpointsSnapshot(timeProvider.GetTimestamp(), [], exception);
                throw;
            }
        }
        finally
        {
            _refresh.Release();
        }
    }

    /// <summary>The snapshot's list while it is fresh; its failure, thrown again, while that is; else null (ask Stripe).</summary>
    private IReadOnlyList<StripeWebhookEndpoint>? Reuse(EndpointsSnapshot? snapshot)
    {
        if (snapshot is null)
        {
            return null;
        }

        // Measured on the monotonic timestamp, not the wall clock: a clock stepped back would make a snapshot "fresh" for as
        // long as the step (an Unhealthy failure reported for an hour after Stripe answers again).
        var age = timeProvider.GetElapsedTime(snapshot.At);
        if (snapshot.Failure is { } failure)
        {
            return age < FailureCacheDuration ? throw failure : null;
        }

        return age < EndpointsCacheDuration ? snapshot.Endpoints : null;
    }

    /// <summary>
    /// The endpoints as last listed, or the failure to list them, and when: one object, so that a reader never pairs one's
    /// time with another's list.
    /// </summary>
    private sealed record EndpointsSnapshot(long At, IReadOnlyList<StripeWebhookEndpoint> Endpoints, StripeException? Failure);
}
