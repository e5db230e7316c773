namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Returned by <c>AddStripePayments</c>: the place to register the app's handlers and to swap the
/// library's default stores.
/// </summary>
public interface IStripePaymentsBuilder
{
    /// <summary>Gets the service collection the library is registered in.</summary>
    IServiceCollection Services { get; }
}

internal sealed class StripePaymentsBuilder(IServiceCollection services) : IStripePaymentsBuilder
{
    public IServiceCollection Services { get; } = services;
}
