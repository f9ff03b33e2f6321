"""Table numbers of documents the console mints itself (the demo, local job and role operations).

Here, not in console.demo, so the store does not import the demo to write one audit entry."""

TABLE_NUMBERS = {
    "users": 10001, "sessions": 10002, "securityEvents": 10003, "auditLogs": 10004, "userProfiles": 10005,
    "conversationState": 10006, "billingAccounts": 10007, "chats": 10008, "messages": 10009, "jobs": 10010,
    "webhookDeliveries": 10011, "organization": 10001, "member": 10002, "invitation": 10003,
}
