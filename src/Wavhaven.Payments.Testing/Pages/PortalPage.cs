using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using Wavhaven.Payments.Testing.Api;
using Wavhaven.Payments.Testing.State;

namespace Wavhaven.Payments.Testing.Pages;

/// <summary>
/// The billing portal at <c>/billing/portal/{id}</c>: the customer's subscriptions with their plan, and forms
/// to switch to another catalog price, cancel at period end, or resume. A session opened with
/// <c>flow_data[type]=subscription_update_confirm</c> shows that switch's confirmation first. Each action
/// updates the subscription (<c>customer.subscription.updated</c> with <c>previous_attributes</c>) and
/// redirects (303) to the flow's redirect URL or the session's return URL.
/// </summary>
internal sealed class PortalPage(EmulatorStore store)
{
    public async Task HandleAsync(HttpContext context, string sessionId)
    {
        IFormCollection? form = null;
        if (HttpMethods.IsPost(context.Request.Method))
        {
            form = await context.Request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
        }

        string? redirect = null;
        int status = StatusCodes.Status200OK;
        string body;
        lock (store.Gate)
        {
            store.ProcessDue();
            var session = store.Find<PortalSession>(sessionId);
            if (session is null)
            {
                (status, body) = (StatusCodes.Status404NotFound, "<h1>Something went wrong</h1>\n<p>This portal session does not exist.</p>");
            }
            else
            {
                string? error = null;
                if (form is not null)
                {
                    try
                    {
                        Act(session, form);
                        redirect = session.RedirectAfterAction;
                    }
                    catch (ApiException exception)
                    {
                        (status, error) = (StatusCodes.Status400BadRequest, exception.Message);
                    }
                }

                body = Render(session, error);
            }
        }

        if (redirect is not null)
        {
            Html.SeeOther(context, redirect);
            return;
        }

        await Html.WriteAsync(context, status, "Billing", body).ConfigureAwait(false);
    }

    private void Act(PortalSession session, IFormCollection form)
    {
        var subscriptionId = Html.Field(form, "subscription") ?? throw ApiException.Missing("subscription");
        var subscription = store.Find<Subscription>(subscriptionId);
        if (subscription is null || subscription.CustomerId != session.CustomerId || subscription.IsEnded)
        {
            throw ApiException.InvalidRequest("That subscription cannot be changed here.", "subscription");
        }

        SubscriptionChange change;
        switch (Html.Field(form, "action"))
        {
            case "switch":
                var price = store.Find<Price>(Html.Field(form, "price") ?? string.Empty);
                var itemId = Html.Field(form, "item");
                if (price is not { IsRecurring: true } || itemId is null)
                {
                    throw ApiException.InvalidRequest("Choose a plan to switch to.", "price");
                }

                change = new SubscriptionChange();
                var quantity = long.TryParse(Html.Field(form, "quantity"), NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) ? parsed : (long?)null;
                change.Items.Add(new ItemChange(itemId, price, quantity, Deleted: false, "items[0]"));
                break;
            case "cancel":
                change = new SubscriptionChange { CancelAtCurrentPeriodEnd = true };
                break;
            case "resume":
                change = subscription.CancelAtPeriodEnd ? new SubscriptionChange { CancelAtPeriodEnd = false } : new SubscriptionChange { CancelAtCurrentPeriodEnd = false };
                break;
            default:
                throw ApiException.InvalidRequest("Unknown action.", "action");
        }

        store.UpdateSubscription(subscription, change, RequestInfo.Automatic);
        session.Notice = "Your subscription was updated.";
    }

    private string Render(PortalSession session, string? error)
    {
        var customer = store.Find<Customer>(session.CustomerId);
        var html = new StringBuilder();
        html.Append("<h1>Billing</h1>\n<p>").Append(Html.Encode(customer?.Name ?? customer?.Email ?? session.CustomerId)).Append("</p>\n");
        if (error is not null)
        {
            html.Append("<p class=\"error\" role=\"alert\">").Append(Html.Encode(error)).Append("</p>\n");
        }
        else if (session.Notice is not null)
        {
            html.Append("<p class=\"notice\">").Append(Html.Encode(session.Notice)).Append("</p>\n");
        }

        var subscriptions = store.All<Subscription>().Where(subscription => subscription.CustomerId == session.CustomerId && !subscription.IsEnded).ToList();
        if (session.FlowType == "subscription_update_confirm" && subscriptions.Find(subscription => subscription.Id == session.FlowSubscriptionId) is { } target
            && target.Items.Find(item => item.Id == session.FlowItemId) is { } targetItem)
        {
            var newPrice = session.FlowPriceId is null ? targetItem.Price : store.Find<Price>(session.FlowPriceId) ?? targetItem.Price;
            html.Append("<section id=\"confirm\">\n<h2>Confirm your update</h2>\n<p>")
                .Append(Html.Encode(PlanName(targetItem.Price))).Append(" (").Append(Html.Encode(Money.Describe(targetItem.Price))).Append(") → ")
                .Append(Html.Encode(PlanName(newPrice))).Append(" (").Append(Html.Encode(Money.Describe(newPrice))).Append(")</p>\n");
            AppendForm(html, session, target, "switch", "Confirm", ("item", targetItem.Id), ("price", newPrice.Id), ("quantity", (session.FlowQuantity ?? targetItem.Quantity).ToString(CultureInfo.InvariantCulture)));
            html.Append("</section>\n");
        }

        html.Append("<h2>Subscriptions</h2>\n");
        if (subscriptions.Count == 0)
        {
            html.Append("<p>No active subscriptions.</p>\n");
        }

        foreach (var subscription in subscriptions)
        {
            html.Append("<section class=\"subscription\" id=\"").Append(Html.Encode(subscription.Id)).Append("\">\n");
            foreach (var item in subscription.Items)
            {
                html.Append("<h3>").Append(Html.Encode(PlanName(item.Price))).Append("</h3>\n<p>")
                    .Append(Html.Encode(Money.Describe(item.Price))).Append(" · ").Append(Html.Encode(subscription.Status))
                    .Append(Ending(subscription) ? " · cancels on " : " · renews on ")
                    .Append(Html.Encode((subscription.CancelAt ?? subscription.CurrentPeriodEnd).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture))).Append("</p>\n");
                foreach (var price in store.All<Price>().Where(price => price.FromCatalog && price.IsRecurring && price.Active && price.Currency == item.Price.Currency && price.Id != item.Price.Id))
                {
                    AppendForm(html, session, subscription, "switch", "Switch to " + PlanName(price) + " (" + Money.Describe(price) + ")", ("item", item.Id), ("price", price.Id));
                }
            }

            if (Ending(subscription))
            {
                AppendForm(html, session, subscription, "resume", "Resume subscription");
            }
            else
            {
                AppendForm(html, session, subscription, "cancel", "Cancel at period end");
            }

            html.Append("</section>\n");
        }

        if (session.ReturnUrl is { } returnUrl)
        {
            html.Append("<p><a id=\"return\" href=\"").Append(Html.Encode(returnUrl)).Append("\">Return</a></p>\n");
        }

        return html.ToString();
    }

    private static bool Ending(Subscription subscription) => subscription.CancelAtPeriodEnd || subscription.CancelAt is not null;

    private string PlanName(Price price) => store.Find<Product>(price.ProductId)?.Name ?? price.Id;

    private void AppendForm(StringBuilder html, PortalSession session, Subscription subscription, string action, string label, params (string Name, string Value)[] fields)
    {
        html.Append("<form method=\"post\" action=\"").Append(Html.Encode(session.Url(store).AbsolutePath)).Append("\">")
            .Append("<input type=\"hidden\" name=\"action\" value=\"").Append(action).Append("\">")
            .Append("<input type=\"hidden\" name=\"subscription\" value=\"").Append(Html.Encode(subscription.Id)).Append("\">");
        foreach (var (name, value) in fields)
        {
            html.Append("<input type=\"hidden\" name=\"").Append(name).Append("\" value=\"").Append(Html.Encode(value)).Append("\">");
        }

        html.Append("<button type=\"submit\">").Append(Html.Encode(label)).Append("</button></form>\n");
    }
}
