using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Wavhaven.Payments.Stripe;

namespace Wavhaven.Payments.Diagnostics;

/// <summary>
/// Reports what would make payments fail quietly: invalid options, no webhook secret, and webhook endpoints at
/// Stripe whose API version differs from the client's pin (their events arrive in other shapes). Stripe's list
/// of endpoints is cached, so that frequent health probes do not become frequent calls to Stripe.
/// </summary>
internal sealed class StripePaymentsHealthCheck(IServiceProvider services, IStripeClient stripe, TimeProvider timeProvider) : IHealthCheck
{
    /// <summary>How long the list of webhook endpoints is reused.</summary>
    internal static readonly TimeSpan EndpointsCacheDuration = TimeSpan.FromMinutes(5);

    private readonly SemaphoreSlim _refresh = new(1, 1);
    private (DateTimeOffset At, IReadOnlyList<StripeWebhookEndpoint> Endpoints)? _cached;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        StripePaymentsOptions options;
        try
        {
            options = ((IOptions<StripePaymentsOptions>)services.GetService(typeof(IOptions<StripePaymentsOptions>))!).Value;
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
                + string.Join("; ", mismatched.Select(endpoint => $"{endpoint.Id} ({endpoint.Url}) at {endpoint.ApiVersion ?? "the account's default version"}"))
                + ". Recreate them with api_version " + StripeApiVersion.Current + ".");
        }

        return problems.Count == 0
            ? HealthCheckResult.Healthy($"Stripe payments are configured ({options.Mode.ToString().ToLowerInvariant()} mode, {endpoints.Count} webhook endpoint(s) at {StripeApiVersion.Current}).", data)
            : HealthCheckResult.Degraded(string.Join(" ", problems), data: data);
    }

    private async Task<IReadOnlyList<StripeWebhookEndpoint>> GetEndpointsAsync(CancellationToken cancellationToken)
    {
        if (_cached is { } cached && timeProvider.GetUtcNow() - cached.At < EndpointsCacheDuration)
        {
            return cached.Endpoints;
        }

        await _refresh.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_cached is { } fresh && timeProvider.GetUtcNow() - fresh.At < EndpointsCacheDuration)
            {
                return fresh.Endpoints;
            }

            var list = await stripe.ListWebhookEndpointsAsync(cancellationToken).ConfigureAwait(false);
            _cached = (timeProvider.GetUtcNow(), list.Data);
            return list.Data;
        }
        finally
        {
            _refresh.Release();
        }
    }
}
