"""Word lists for demo data. The product in the demo is "Tidewell", a burnout-coaching service that
talks to people by SMS and web chat, bills through Stripe and signs people in through Clerk."""

FIRST_NAMES = """
Olivia Liam Emma Noah Amelia Oliver Ava Elijah Sophia James Isabella William Mia Benjamin Charlotte Lucas
Harper Henry Evelyn Theodore Luna Jack Camila Levi Gianna Alexander Abigail Jackson Ella Mateo Elizabeth
Daniel Sofia Michael Emily Mason Avery Sebastian Scarlett Ethan Eleanor Logan Madison Owen Layla Samuel
Penelope Jacob Aria Asher Chloe Aiden Grace John Ellie Joseph Nora Wyatt Hazel David Zoey Leo Riley Luke
Victoria Julian Lily Hudson Aurora Grayson Violet Matthew Nova Ezra Hannah Gabriel Emilia Carter Zoe Isaac
Stella Jayden Everly Luca Isla Anthony Leah Dylan Lillian Lincoln Addison Thomas Willow Maverick Lucy
Elias Paisley Josiah Natalie Charles Naomi Caleb Eliana Christopher Brooklyn Ezekiel Elena Miles Aubrey
Jaxon Claire Isaiah Ivy Andrew Kinsley Joshua Audrey Nathan Maya Nolan Genesis Adrian Skylar Cameron
Bella Santiago Aaliyah Eli Madelyn Aaron Savannah Ryan Anna Angel Delilah Cooper Serenity Waylon Caroline
Easton Kennedy Kai Valentina Christian Ruby Landon Sophie Colton Alice Roman Gabriella Axel Sadie Brooks
Ariana Jonathan Allison Robert Hailey Jameson Autumn Ian Nevaeh Everett Natalia Greyson Quinn Wesley
Josephine Jeremiah Sarah Hunter Cora Leonardo Emery Jordan Samantha Jose Piper Bennett Leilani Silas
Eva Nicholas Everleigh Parker Madeline Beau Lydia Weston Jade Austin Peyton Connor Brielle Carson Adeline
Priya Arjun Ananya Rohan Mei Wei Hiroshi Yuki Sakura Kenji Fatima Omar Aisha Yusuf Leila Karim Ingrid
Lars Sven Freya Björn Astrid Zoë Chloé Renée José María Lucía Mateo Joaquín Sofía Valentín Camille Léa
Hugo Louis Jules Manon Noémie Lukas Jonas Mila Finn Greta Emil Tomasz Zofia Kasia Piotr Anja Nikola Ivana
""".split()

LAST_NAMES = """
Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez Wilson
Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis
Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall
Rivera Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes
Stewart Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard
Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price
Alvarez Castillo Sanders Patel Myers Long Ross Foster Jimenez Powell Jenkins Perry Russell Sullivan Bell
Coleman Butler Henderson Barnes Gonzales Fisher Vasquez Simmons Romero Jordan Patterson Alexander Hamilton
Graham Reynolds Griffin Wallace Moreno West Cole Hayes Bryant Herrera Gibson Ellis Tran Medina Aguilar
Stevens Murray Ford Castro Marshall Owens Harrison Fernandez McDonald Woods Washington Kennedy Wells
Vargas Henry Chen Freeman Webb Tucker Guzman Burns Crawford Olson Simpson Porter Hunter Gordon Mendez
Silva Shaw Snyder Mason Dixon Muñoz Hunt Hicks Holmes Palmer Wagner Black Robertson Boyd Rose Stone
Salazar Fox Warren Mills Meyer Rice Schmidt Garza Daniels Ferguson Nichols Stephens Soto Weaver Ryan
Gardner Payne Grant Dunn Kowalski Nowak Wiśniewski Müller Schneider Fischer Weber Becker Hoffmann Schulz
Dubois Moreau Laurent Lefèvre Rousseau Bernard Tanaka Suzuki Takahashi Watanabe Yamamoto Nakamura Sato
Singh Sharma Gupta Iyer Reddy Khan Ahmed Hassan Ali Ibrahim Okafor Adeyemi Mensah Novak Horvat Kovač
Johansson Lindqvist Andersson Nilsson Eriksson Larsen Hansen Nielsen O'Brien O'Connor Fitzgerald Byrne
""".split()

EMAIL_DOMAINS = [
    "gmail.com", "gmail.com", "gmail.com", "outlook.com", "yahoo.com", "icloud.com", "proton.me",
    "hotmail.com", "fastmail.com", "hey.com",
]

COMPANY_WORDS = """
Northwind Bluebird Cedar Harbor Summit Lumen Meridian Alder Beacon Copper Fjord Granite Juniper Kestrel
Lattice Maple Nimbus Orchard Pioneer Quarry Redwood Sable Tandem Umber Vista Willow Yarrow Zephyr Atlas
Brightline Cobalt Driftwood Ember Foxglove Glacier Hearth Ironwood Jasper Keystone Larkspur Mosaic Nova
""".split()

COMPANY_SUFFIX = ["Health", "Labs", "Studio", "Partners", "Clinic", "Logistics", "Analytics", "Schools",
                  "Design", "Group", "Care", "Software", "Foods", "Legal", "Media"]

LABELS = ["vip", "beta", "churn-risk", "enterprise", "needs-followup", "sms-only", "pilot", "referral"]

GOALS = ["sleep better", "set boundaries at work", "take real breaks", "reduce overtime",
         "reconnect with friends", "exercise twice a week", "stop checking email at night",
         "talk to my manager", "plan a vacation", "feel less irritable"]

JOURNEY_STAGES = ["onboarding", "assessment", "active", "maintenance", "paused", "graduated"]

USER_AGENTS = [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (Linux; Android 15; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Tidewell/3.4.1 (iOS 18.1; iPhone15,2)",
    "Tidewell/3.4.0 (Android 15; Pixel 8)",
]

SECURITY_EVENT_TYPES = [
    ("login_success", "info"), ("login_success", "info"), ("login_success", "info"),
    ("login_failed", "warning"), ("password_reset_requested", "info"), ("mfa_enabled", "info"),
    ("new_device", "info"), ("session_revoked", "info"), ("suspicious_ip", "high"),
    ("too_many_attempts", "high"), ("email_changed", "warning"),
]

TIMEZONES = ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
             "Europe/London", "Europe/Berlin", "Europe/Paris", "Europe/Warsaw", "Asia/Tokyo",
             "Australia/Sydney", "America/Toronto", "Asia/Kolkata"]

CHAT_TITLES = [
    "Sunday night dread", "Too many meetings", "Sleep is a mess", "Talking to my manager",
    "Boundaries with Slack", "Feeling flat lately", "Post-launch crash", "Weekly check-in",
    "Can't switch off", "Vacation guilt", "Overtime again", "Morning routine", "Team conflict",
    "Billing question", "First session", "Back after a break", "Deadline week", "Energy dips after lunch",
    "Saying no", "Burnout score went up", "Night shifts", "Caring for a parent", "New role nerves",
]

# Exchanges: (user message, assistant reply). {name} is the user's first name.
EXCHANGES = [
    ("I've been waking up at 4am thinking about work again.",
     "That sounds exhausting, {name}. When you wake at 4, what's usually the first thought that shows up?"),
    ("Mostly the inbox. I feel like if I don't check it I'll miss something big.",
     "That urge to check makes sense when work feels unpredictable. Could we try a 'parking list' by your bed tonight: write the worry down, and let the list hold it until 8am?"),
    ("I had six meetings back to back today and didn't eat lunch.",
     "Six in a row with no food is a lot for any brain. What would it take to protect even 20 minutes at midday tomorrow?"),
    ("Honestly I don't know. My calendar is open to everyone.",
     "A small experiment: block 12:30-12:50 as 'busy' for the next three days and tell me how it goes. No explaining needed."),
    ("My manager keeps adding projects and I don't know how to push back.",
     "Pushing back can feel risky. One phrase that often works: 'Happy to take this on. Which of my current priorities should move?' Want to rehearse it together?"),
    ("Yes please, I have our 1:1 on Thursday.",
     "Great. Say it to me the way you'd say it on Thursday, and I'll play your manager."),
    ("I feel guilty taking a day off when the team is so busy.",
     "Guilt often shows up when we care about our team. Rest is also how you stay useful to them. What would a guilt-free day off look like?"),
    ("I snapped at my partner last night over nothing.",
     "Thank you for telling me. Irritability is one of the most common early signs of burnout. Was there anything different about yesterday?"),
    ("I did the breathing exercise before the presentation and it helped!",
     "That's wonderful, {name}! Noticing what helps is a real skill. Want to make it part of your pre-meeting routine?"),
    ("My score went up this week. Is that bad?",
     "It tells us this week was heavier, not that you did anything wrong. Your score moved from moderate towards high, mostly on sleep and detachment. Shall we look at sleep first?"),
    ("I keep checking Slack on my phone at dinner.",
     "Many people do. Would you try turning on 'pause notifications' from 7pm for a week? I'll check in Friday to see how it felt."),
    ("Why was I charged twice this month?",
     "I'm sorry about that. I can see two charges on the 3rd: one was a failed renewal that was retried. The duplicate has been refunded and should show in 5-10 days."),
    ("Can I pause my subscription while I'm travelling?",
     "Yes. You can pause for up to 60 days from Settings > Billing, or I can do it for you now. Which dates?"),
    ("I finally said no to the weekend on-call swap.",
     "That's a big step. How did it feel in your body right after you said it?"),
    ("Nervous at first, then kind of light.",
     "That lightness is worth remembering. It's what a boundary feels like when it holds."),
    ("I don't feel anything about work anymore. Just numb.",
     "Numbness can be a sign your system is protecting itself from overload. You don't have to fix it today. If it ever feels like more than numbness, you can text HELP and a person will reach you."),
    ("Started walking at lunch three days this week.",
     "Three days! That's consistency. What made it possible this week?"),
    ("I can't stop thinking about the reorg announcement.",
     "Uncertainty is one of the hardest kinds of stress. What's one thing about the reorg you do have some control over?"),
    ("Night shift again. I sleep maybe four hours during the day.",
     "Day sleep after nights is genuinely hard. Blackout curtains, a consistent wind-down, and no caffeine in the last 6 hours of the shift help most people. Which is easiest to try?"),
    ("Thanks, this actually helps.",
     "I'm glad, {name}. I'll check in tomorrow evening. You can reply any time before then."),
]

JOB_TYPES = {
    "sms.send": 0.22,
    "ai.generate_reply": 0.18,
    "webhook.twilio.inbound": 0.10,
    "webhook.stripe.event": 0.08,
    "webhook.clerk.event": 0.05,
    "email.send_digest": 0.10,
    "profile.recompute_burnout": 0.12,
    "billing.sync_subscription": 0.07,
    "crm.sync_contact": 0.08,
}

JOB_ERRORS = {
    "sms.send": [
        "Twilio error 21610: Attempt to send to unsubscribed recipient",
        "Twilio error 21211: Invalid 'To' Phone Number",
        "Twilio error 30007: Carrier violation: message filtered",
        "TypeError: fetch failed (ECONNRESET) POST https://api.twilio.com/2010-04-01/Accounts/AC…/Messages.json",
    ],
    "ai.generate_reply": [
        "OpenAI API error 429: Rate limit reached for gpt-4o in organization org-… on tokens per min",
        "Timeout: model did not respond within 30000 ms",
        "OpenAI API error 500: The server had an error while processing your request",
        "ConvexError: conversation state missing for user",
    ],
    "webhook.twilio.inbound": [
        "ConvexError: no user with phone number",
        "Uncaught Error: conversationState.stage 'handoff' is not handled",
    ],
    "webhook.stripe.event": [
        "ConvexError: billing account not found for customer",
        "StripeRateLimitError: Request rate limit exceeded (429)",
        "Uncaught TypeError: Cannot read properties of undefined (reading 'current_period_end')",
    ],
    "webhook.clerk.event": [
        "ConvexError: user already exists with this externalId",
        "Uncaught Error: email_addresses[0] is undefined",
    ],
    "email.send_digest": [
        "Resend API error 422: The 'to' field contains an invalid email address",
        "Resend API error 429: Too many requests",
    ],
    "profile.recompute_burnout": [
        "Uncaught RangeError: score out of range: NaN",
        "Error: Too many documents read in a single function execution (limit: 32000)",
    ],
    "billing.sync_subscription": [
        "StripeAPIError: No such subscription: 'sub_…'",
        "StripeConnectionError: Request to Stripe timed out",
    ],
    "crm.sync_contact": [
        "HubSpot API 401: Authentication credentials not found",
        "HubSpot API 409: Contact already exists",
        "fetch failed: getaddrinfo ENOTFOUND api.hubapi.com",
    ],
}

WORKERS = ["workpool-1", "workpool-2", "workpool-3", "workpool-4"]

STRIPE_EVENTS = ["invoice.paid", "invoice.payment_failed", "customer.subscription.updated",
                 "customer.subscription.deleted", "checkout.session.completed", "charge.refunded"]
CLERK_EVENTS = ["user.created", "user.updated", "session.created", "user.deleted"]
SMS_BODIES = ["yes", "Feeling ok today", "STOP", "not great tbh", "can we talk later?", "HELP",
              "slept 7 hours!!", "work is crazy this week", "thanks", "what's my score?"]
