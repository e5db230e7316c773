using System.Text;
using Microsoft.AspNetCore.Http;
using Wavhaven.Payments.Testing.State;

namespace Wavhaven.Payments.Testing.Pages;

/// <summary>
/// The hosted Checkout page at <c>/checkout/pay/{id}</c>: the lines and total, an email field (read-only with the
/// customer's email when the session has a customer, as at Stripe: a posted email is then ignored), and three buttons (pay, pay with a declined card, pay by bank debit) that post the form back.
/// Paying redirects (303) to the success URL with <c>{CHECKOUT_SESSION_ID}</c> replaced; a decline shows the
/// page again with 402 and the decline message. Posting to a session that is no longer open changes nothing
/// and answers 409 (complete) or 410 (expired).
/// </summary>
internal sealed class CheckoutPage(EmulatorStore store)
{
    public const string PaymentField = "payment";
    public const string EmailField = "email";

    public async Task HandleAsync(HttpContext context, string sessionId)
    {
        if (HttpMethods.IsPost(context.Request.Method))
        {
            var form = await context.Request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
            await PostAsync(context, sessionId, form).ConfigureAwait(false);
            return;
        }

        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
        {
            context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            return;
        }

        string body;
        int status;
        lock (store.Gate)
        {
            store.ProcessDue();
            (status, body) = Render(store.Find<CheckoutSession>(sessionId));
        }

        await Html.WriteAsync(context, status, "Checkout", body).ConfigureAwait(false);
    }

    private async Task PostAsync(HttpContext context, string sessionId, IFormCollection form)
    {
        var payment = Html.Field(form, PaymentField) switch
        {
            "succeeds" => EmulatedPayment.Succeeds,
            "declined" => EmulatedPayment.Declined,
            "delayed" => EmulatedPayment.DelayedBankDebit,
            _ => (EmulatedPayment?)null,
        };

        string? redirect = null;
        int status;
        string body;
        lock (store.Gate)
        {
            store.ProcessDue();
            var session = store.Find<CheckoutSession>(sessionId);
            if (session is null || session.Status != "open" || payment is null)
            {
                (status, body) = Render(session);
                status = session?.Status switch
                {
                    "open" => StatusCodes.Status400BadRequest,
                    "complete" => StatusCodes.Status409Conflict,
                    _ => status,
                };
            }
            else if (store.Pay(session, payment.Value, Html.Field(form, EmailField)))
            {
                redirect = session.SuccessUrl?.Replace("{CHECKOUT_SESSION_ID}", session.Id, StringComparison.Ordinal);
                (status, body) = Render(session);
            }
            else
            {
                (status, body) = Render(session);
                status = StatusCodes.Status402PaymentRequired;
            }
        }

        if (redirect is not null)
        {
            Html.SeeOther(context, redirect);
            return;
        }

        await Html.WriteAsync(context, status, "Checkout", body).ConfigureAwait(false);
    }

    private (int Status, string Body) Render(CheckoutSession? session)
    {
        if (session is null)
        {
            return (StatusCodes.Status404NotFound, "<h1>Something went wrong</h1>\n<p>This Checkout session does not exist.</p>");
        }

        var html = new StringBuilder();
        html.Append("<h1>").Append(session.Mode == "subscription" ? "Subscribe" : "Pay").Append("</h1>\n");
        html.Append("<table>\n<thead><tr><th>Item</th><th>Qty</th><th class=\"amount\">Amount</th></tr></thead>\n<tbody>\n");
        foreach (var line in session.Lines)
        {
            html.Append("<tr><td>").Append(Html.Encode(line.Description));
            if (line.Price.Interval is { } interval)
            {
                html.Append(" <span class=\"badge\">billed every ").Append(Html.Encode(interval)).Append("</span>");
            }

            html.Append("</td><td>").Append(line.Quantity).Append("</td><td class=\"amount\">")
                .Append(Html.Encode(Money.Format(line.AmountTotal, line.Price.Currency))).Append("</td></tr>\n");
        }

        html.Append("<tr class=\"total\"><td colspan=\"2\">Total due today</td><td class=\"amount\" id=\"total\">")
            .Append(Html.Encode(Money.Format(session.AmountTotal, session.Currency)))
            .Append("</td></tr>\n</tbody>\n</table>\n");
        if (session.TrialPeriodDays is { } days)
        {
            html.Append("<p>").Append(days).Append("-day free trial.</p>\n");
        }

        switch (session.Status)
        {
            case "complete":
                html.Append("<p class=\"notice\">This Checkout session is complete")
                    .Append(session.PaymentStatus == "unpaid" ? ": the bank debit is processing." : ". Thank you!").Append("</p>\n");
                return (StatusCodes.Status200OK, html.ToString());
            case "expired":
                html.Append("<p class=\"error\">This Checkout session has expired.</p>\n");
                return (StatusCodes.Status410Gone, html.ToString());
        }

        if (session.LastError is { } error)
        {
            html.Append("<p class=\"error\" role=\"alert\">").Append(Html.Encode(error)).Append("</p>\n");
        }

        var email = store.BuyerEmailOf(session);
        html.Append("<form method=\"post\" action=\"").Append(Html.Encode(session.Url(store).AbsolutePath)).Append("\">\n")
            .Append("<p><label>Email <input type=\"email\" name=\"").Append(EmailField).Append("\" value=\"").Append(Html.Encode(email)).Append(store.EmailIsCustomers(session) ? "\" readonly>" : "\">").Append("</label></p>\n")
            .Append("<button type=\"submit\" name=\"").Append(PaymentField).Append("\" value=\"succeeds\">Pay</button>\n")
            .Append("<button type=\"submit\" name=\"").Append(PaymentField).Append("\" value=\"declined\">Pay with a declined card</button>\n")
            .Append("<button type=\"submit\" name=\"").Append(PaymentField).Append("\" value=\"delayed\">Pay by bank debit (delayed)</button>\n")
            .Append("</form>\n");
        if (session.CancelUrl is { } cancelUrl)
        {
            html.Append("<p><a id=\"cancel\" href=\"").Append(Html.Encode(cancelUrl)).Append("\">Cancel and go back</a></p>\n");
        }

        return (StatusCodes.Status200OK, html.ToString());
    }
}
