using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Wavhaven.Store.Data;
using Wavhaven.Store.Services;

namespace Wavhaven.Store.Pages;

public sealed class DiagnosticsModel(PaymentsMetrics metrics, HealthCheckService health, StoreDbContext db) : PageModel
{
    /// <summary>Gets the payments taken for orders already paid, to refund (see LicensePurchaseHandler).</summary>
    public IReadOnlyList<OwedRefund> OwedRefunds { get; private set; } = [];

    public IReadOnlyList<PaymentsMetrics.Total> Totals { get; private set; } = [];

    public HealthStatus Health { get; private set; }

    public string? HealthDescription { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        Totals = metrics.Snapshot();
        var report = await health.CheckHealthAsync(cancellationToken);
        Health = report.Status;
        HealthDescription = report.Entries.TryGetValue("stripe", out var stripe) ? stripe.Description : null;
        OwedRefunds = await db.OwedRefunds.AsNoTracking().OrderBy(refund => refund.Id).ToListAsync(cancellationToken);
    }
}
