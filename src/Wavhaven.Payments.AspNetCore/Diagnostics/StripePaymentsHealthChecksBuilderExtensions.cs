using Microsoft.Extensions.Diagnostics.HealthChecks;
using Wavhaven.Payments.Diagnostics;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the Stripe payments health check.</summary>
public static class StripePaymentsHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds a health check that reports invalid options, missing webhook secrets, and webhook endpoints at Stripe
    /// whose API version differs from the library's pin (listed through Stripe's API, cached for five minutes).
    /// Problems are <see cref="HealthStatus.Degraded"/>; failures to read the configuration or to reach Stripe
    /// are <paramref name="failureStatus"/>.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The check's name.</param>
    /// <param name="failureStatus">The status when the check fails; <see cref="HealthStatus.Unhealthy"/> by default.</param>
    /// <param name="tags">Tags to filter checks by.</param>
    /// <returns>The builder.</returns>
    public static IHealthChecksBuilder AddStripePayments(this IHealthChecksBuilder builder, string name = "stripe", HealthStatus? failureStatus = null, IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        builder.Services.AddSingleton<StripePaymentsHealthCheck>();
        return builder.Add(new HealthCheckRegistration(name, services => services.GetRequiredService<StripePaymentsHealthCheck>(), failureStatus, tags));
    }
}
