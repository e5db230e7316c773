using Microsoft.AspNetCore.Mvc.ApplicationModels;

namespace Wavhaven.Store.Services;

/// <summary>
/// The pages that are for trying the store out, not for running it: <c>/mailbox</c> shows every email the store
/// "sent" (guests' addresses and their download links), <c>/diagnostics</c> the library's metrics and health. They exist
/// in the Development environment and in offline mode (<see cref="EmulatorMode"/>, no real payments); anywhere else they
/// are not routed at all, so they answer 404 like any unknown path.
/// </summary>
public sealed class DemoPages(bool enabled)
{
    private static readonly string[] Pages = ["/Mailbox", "/Diagnostics"];

    /// <summary>Gets whether the demo pages exist in this run.</summary>
    public bool Enabled => enabled;

    /// <summary>Decides, before the app is built, from its environment and whether it runs offline.</summary>
    public static DemoPages For(WebApplicationBuilder builder) =>
        new(builder.Environment.IsDevelopment() || EmulatorMode.IsOffline(builder.Configuration));

    /// <summary>Removes the demo pages' routes unless they are enabled: a page with no route has no endpoint.</summary>
    public void Apply(PageConventionCollection conventions)
    {
        if (enabled)
        {
            return;
        }

        foreach (var page in Pages)
        {
            conventions.AddPageRouteModelConvention(page, model => model.Selectors.Clear());
        }
    }
}
