using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Wavhaven.Store.Tests.Support;

namespace Wavhaven.Store.Tests.Flows;

/// <summary>Sets the process's default culture, which every other test would see: run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ServerCultureCollection
{
    public const string Name = "Server culture";
}

/// <summary>What the store shows when the server's culture (its LANG) is not English.</summary>
[Collection(ServerCultureCollection.Name)]
public class ServerCultureTests
{
    /// <summary>
    /// The store's pages are in English and show prices in the invariant culture, but the account page formats the Pro
    /// renewal date with the server's culture: on a server whose culture's calendar is not the Gregorian one (ar-SA's
    /// Umm al-Qura, th-TH's Buddhist era) a member reads "renews on 1448-…" or "renews on 2569-…".
    /// </summary>
    [Theory]
    [InlineData("ar-SA")]
    [InlineData("th-TH")]
    public async Task AccountPage_ShowsTheRenewalDateInTheGregorianCalendar_WhateverTheServersCulture(string culture)
    {
        var before = CultureInfo.DefaultThreadCurrentCulture;
        CultureInfo.DefaultThreadCurrentCulture = new CultureInfo(culture);
        try
        {
            await using var store = await StoreApp.StartAsync();
            using var browser = store.NewBrowser();
            await browser.RegisterAsync("calendar@example.com");
            await browser.SubscribeToProAsync(store);

            var end = await store.WithDbAsync(db => db.ProSubscriptions.Select(row => row.CurrentPeriodEnd).SingleAsync());
            var page = await browser.GetPageAsync("/account");

            page.Should().Contain("renews on " + end!.Value.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                "the renewal date is the emulator's period end, in the calendar the rest of the English page uses");
        }
        finally
        {
            CultureInfo.DefaultThreadCurrentCulture = before;
        }
    }
}
