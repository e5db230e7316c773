using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.EntityFrameworkCore;
using Wavhaven.Store.Data;
using Wavhaven.Store.Endpoints;
using Wavhaven.Store.Fulfillment;
using Wavhaven.Store.Services;

var builder = WebApplication.CreateBuilder(args);

// With no Stripe:SecretKey the store runs offline, against the library's Stripe emulator.
EmulatorMode.Register(builder);

builder.Services.AddDbContext<StoreDbContext>(options => options.UseSqlite(builder.Configuration.GetConnectionString("Store")));
builder.Services.AddIdentity<StoreUser, IdentityRole>(options =>
    {
        options.Password.RequireDigit = false;
        options.Password.RequireNonAlphanumeric = false;
        options.Password.RequireUppercase = false;
        options.Password.RequiredLength = 8;
        options.User.RequireUniqueEmail = true;
    })
    .AddEntityFrameworkStores<StoreDbContext>();
builder.Services.ConfigureApplicationCookie(options =>
{
    options.LoginPath = "/account/login";
    options.LogoutPath = "/account/logout";
});

// /mailbox and /diagnostics exist in Development and offline mode only; elsewhere they are not routed (404).
var demoPages = DemoPages.For(builder);
builder.Services.AddSingleton(demoPages);
builder.Services.AddRazorPages(options => demoPages.Apply(options.Conventions));
builder.Services.AddHttpContextAccessor();
builder.Services.AddOptions<StoreSettings>().Bind(builder.Configuration.GetSection("Store"));
builder.Services.TryAddSingleton(TimeProvider.System);
builder.Services.AddScoped<Cart>();
builder.Services.AddScoped<OrderCheckout>();
builder.Services.AddScoped<IStoreEmailSender, MailboxEmailSender>();
builder.Services.AddSingleton<DownloadLinks>();
builder.Services.AddSingleton<PaymentsMetrics>();
builder.Services.AddHealthChecks().AddStripePayments();

builder.Services.AddStripePayments(builder.Configuration.GetSection("Stripe"))
    .UseEntityFrameworkStores<StoreDbContext>()
    .AddFulfillmentHandler<LicensePurchaseHandler>()
    .AddFulfillmentHandler<ProCheckoutHandler>()
    .AddSubscriptionHandler<ProSubscriptionHandler>();

var app = builder.Build();
app.Services.GetRequiredService<PaymentsMetrics>(); // listen from the start
await EmulatorMode.StartAsync(app);
await SeedData.InitializeAsync(app.Services);

if (!app.Environment.IsDevelopment())
{
    app.UseExceptionHandler("/error");
}

app.UseStaticFiles();
app.UseRouting();
app.UseAuthentication();
app.UseAuthorization();

app.MapStripeWebhook("/api/webhooks/stripe");
// For probes: the default writer answers the status alone ("Healthy", "Degraded" or "Unhealthy"; 503 when unhealthy),
// never the checks' descriptions. Those are on /diagnostics, which exists only where the demo pages do.
app.MapHealthChecks("/health");
app.MapStoreEndpoints();
app.MapRazorPages();

app.Run();

/// <summary>The sample's entry point, visible to its tests.</summary>
public partial class Program;
