using Microsoft.Extensions.Options;
using Wavhaven.Payments.Fulfillment;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>A marker whose validation, at start-up, checks the app's handler registrations.</summary>
internal sealed class HandlerRegistrationCheck;

/// <summary>
/// Fails the host's start when fulfillment handlers are misregistered (an empty type, two handlers of one
/// type), instead of on the first paid checkout.
/// </summary>
internal sealed class HandlerRegistrationValidator(IServiceScopeFactory scopes) : IValidateOptions<HandlerRegistrationCheck>
{
    public ValidateOptionsResult Validate(string? name, HandlerRegistrationCheck options)
    {
        // Disposed asynchronously, as the webhook's and the success page's scopes are: a handler (or a dependency of one)
        // that is only IAsyncDisposable is valid, and a synchronous Dispose would throw for it and stop the host's start.
        var scope = scopes.CreateAsyncScope();
        try
        {
            return Validate(scope.ServiceProvider);
        }
        finally
        {
            scope.DisposeAsync().AsTask().GetAwaiter().GetResult(); // options validation is synchronous; this runs once, at start
        }
    }

    private static ValidateOptionsResult Validate(IServiceProvider services)
    {
        var failures = new List<string>();
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var handler in services.GetServices<IFulfillmentHandler>())
        {
            var handlerName = handler.GetType().Name;
            if (string.IsNullOrWhiteSpace(handler.Type))
            {
                failures.Add($"Fulfillment handler {handlerName} has an empty Type. Return the fulfillment type its checkouts are created with (CheckoutRequest.FulfillmentType).");
            }
            else if (!seen.TryAdd(handler.Type, handlerName))
            {
                failures.Add($"Fulfillment handlers {seen[handler.Type]} and {handlerName} both serve type '{handler.Type}'. Each type needs exactly one handler.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
